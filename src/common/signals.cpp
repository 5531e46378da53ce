#include "signals.h"

#include <csignal>
#include <utility>

namespace k8psh {
namespace {

constexpr std::pair<const char *, int> kSignals[] = {
    {"ABRT", SIGABRT}, {"ALRM", SIGALRM}, {"FPE", SIGFPE},   {"HUP", SIGHUP},   {"ILL", SIGILL},   {"INT", SIGINT},
    {"KILL", SIGKILL}, {"PIPE", SIGPIPE}, {"QUIT", SIGQUIT}, {"SEGV", SIGSEGV}, {"TERM", SIGTERM}, {"USR1", SIGUSR1},
    {"USR2", SIGUSR2}, {"BUS", SIGBUS},   {"CONT", SIGCONT}, {"STOP", SIGSTOP}, {"TSTP", SIGTSTP}, {"WINCH", SIGWINCH},
};

}  // namespace

int signal_from_ssh_name(const std::string &name) {
    for (const auto &[text, number] : kSignals) {
        if (name == text) {
            return number;
        }
    }
    return 0;
}

std::string ssh_name_of_signal(int signal) {
    for (const auto &[text, number] : kSignals) {
        if (signal == number) {
            return text;
        }
    }
    return "";
}

}  // namespace k8psh
