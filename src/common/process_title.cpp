#include "process_title.h"

#include <algorithm>
#include <cstring>
#include <sys/prctl.h>
#include <unistd.h>

namespace k8psh {
namespace {

int g_argc = 0;
char **g_argv = nullptr;

}  // namespace

void remember_process_arguments(int argc, char **argv) {
    g_argc = argc;
    g_argv = argv;
}

void set_process_title(const std::string &title) {
    prctl(PR_SET_NAME, title.substr(0, std::min<std::size_t>(title.find(' '), 15)).c_str(), 0, 0, 0);
    if (g_argc <= 0 || g_argv == nullptr || g_argv[0] == nullptr) {
        return;
    }
    // The kernel laid argv and then environ out back to back: the title may use all of it
    // once the environment lives on the heap.
    char *begin = g_argv[0];
    char *end = begin + strlen(begin) + 1;
    for (int i = 1; i < g_argc && g_argv[i] == end; ++i) {
        end += strlen(g_argv[i]) + 1;
    }
    std::size_t env_count = 0;
    while (environ[env_count] != nullptr) {
        ++env_count;
    }
    char **moved = new char *[env_count + 1];
    for (std::size_t i = 0; i < env_count; ++i) {
        if (environ[i] == end) {
            end += strlen(environ[i]) + 1;
        }
        moved[i] = strdup(environ[i]);
    }
    moved[env_count] = nullptr;
    environ = moved;
    std::size_t room = static_cast<std::size_t>(end - begin);
    std::memset(begin, 0, room);  // zeroed first: the copy below always leaves a terminator
    title.copy(begin, room - 1);
    g_argv[1] = nullptr;
}

}  // namespace k8psh
