#include "executable_lookup.h"

#include <cerrno>
#include <sys/stat.h>
#include <unistd.h>

namespace k8psh {

ExecutableLookup find_executable(const std::string &name, const std::optional<std::string> &command_path,
                                 const std::string &server_path) {
    if (name.find('/') != std::string::npos) {
        return {name, 0};
    }
    if (name.empty()) {
        return {"", ENOENT};
    }
    const std::string &search = command_path.has_value() ? *command_path : server_path;
    int error = ENOENT;
    std::size_t start = 0;
    for (;;) {
        std::size_t end = search.find(':', start);
        std::string directory = search.substr(start, end == std::string::npos ? std::string::npos : end - start);
        if (!directory.empty() && directory[0] == '/') {
            std::string candidate = directory + (directory.back() == '/' ? "" : "/") + name;
            struct stat info {};
            if (stat(candidate.c_str(), &info) == 0 && S_ISREG(info.st_mode)) {
                if (access(candidate.c_str(), X_OK) == 0) {
                    return {candidate, 0};
                }
                error = EACCES;  // as execvp: keep looking, report 126 if nothing better turns up
            }
        }
        if (end == std::string::npos) {
            return {"", error};
        }
        start = end + 1;
    }
}

}  // namespace k8psh
