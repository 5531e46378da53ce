#include "stubs.h"

#include "atomic_file.h"
#include "log.h"
#include "sys.h"

#include <cerrno>
#include <climits>
#include <cstring>
#include <stdexcept>
#include <sys/stat.h>
#include <unistd.h>

namespace k8psh {
namespace {

bool points_at(const std::string &link, const std::string &target) {
    char buffer[PATH_MAX];
    ssize_t n = readlink(link.c_str(), buffer, sizeof buffer - 1);
    return n > 0 && std::string(buffer, static_cast<std::size_t>(n)) == target;
}

}  // namespace

std::vector<std::string> write_stubs(const Config &config, const StubOptions &options) {
    make_directories(options.directory, 0755);
    std::vector<std::string> created;
    for (const auto &server : config.servers) {
        if (server.name == options.local_server && !options.include_local) {
            continue;
        }
        for (const auto &command : server.commands) {
            // A name listed twice gets one stub, for the definition clients use (the later one):
            // a later local definition means the command runs here, so no stub.
            if (config.find_command(command.name) != &command) {
                continue;
            }
            std::string path = options.directory + "/" + command.name;
            struct stat info {};
            bool exists = lstat(path.c_str(), &info) == 0;
            if (exists && points_at(path, options.target)) {
                continue;
            }
            if (exists && !options.overwrite) {
                spdlog::warn("{}: exists and is not a k8psh stub; kept (use -o to overwrite)", path);
                continue;
            }
            if (!replace_symlink(options.target, path)) {
                throw std::runtime_error(path + ": cannot create stub: " + strerror(errno));
            }
            K8PSH_DEBUG_LOG("server", "stub {} -> {}", path, options.target);
            created.push_back(path);
        }
    }
    return created;
}

void remove_stubs(const std::vector<std::string> &paths) {
    for (const auto &path : paths) {
        unlink(path.c_str());
    }
}

}  // namespace k8psh
