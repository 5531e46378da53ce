#include "server_channel.h"

#include "argv_quoting.h"
#include "log.h"
#include "signals.h"
#include "workdir.h"

#include <algorithm>
#include <cerrno>
#include <csignal>
#include <cstring>
#include <sys/eventfd.h>
#include <unistd.h>

namespace k8psh::server_detail {

int Channel::on_env(const char *name, const char *value) {
    if (phase_ != Phase::Requested || ++env_requests_ > kMaxEnvRequests) {
        return SSH_ERROR;
    }
    if (strcmp(name, kArgvPartName) == 0) {
        exec_parts_.add_part(value);
        return SSH_OK;
    }
    // Everything is remembered; only what the command's rules name is ever used.
    client_env_[name] = value;
    return SSH_OK;
}

int Channel::on_exec(const char *command) {
    if (phase_ != Phase::Requested) {
        return SSH_ERROR;
    }
    begin_command();
    start_command(exec_parts_.finish(command));
    return SSH_OK;
}

int Channel::on_subsystem(const char *name) {
    // No sftp or other subsystems: accepted only to say so on stderr, with exit 127.
    if (phase_ != Phase::Requested) {
        return SSH_ERROR;
    }
    begin_command();
    refuse(exit_code::kUnknownCommand,
           std::string("no subsystems here (") + name + "); run one of: " + allowed_commands());
    return SSH_OK;
}

int Channel::on_pty(const char *term, const WindowSize &size) {
    if (phase_ != Phase::Requested) {
        return SSH_ERROR;
    }
    want_pty_ = true;
    term_ = term;
    window_ = size;
    return SSH_OK;
}

void Channel::on_window_change(const WindowSize &size) {
    window_ = size;
    pty_.resize(size);
}

void Channel::on_signal(const char *name) {
    int signal = signal_from_ssh_name(name);
    if (signal != 0 && child_running_) {
        K8PSH_DEBUG_LOG("server", "{}: forwarding SIG{} to {}", peer_, name, command_name_);
        signal_group(child_, signal);
        if (signal == SIGTSTP && want_pty_) {
            // A PTY command leads a session of its own, so its group is orphaned and the kernel
            // drops a TSTP whose action is to stop. Programs that catch TSTP have seen it; STOP
            // makes the command stop as the client's Ctrl-Z asked (SIGCONT resumes it).
            signal_group(child_, SIGSTOP);
        }
    }
}

std::string Channel::allowed_commands() const {
    std::string list;
    for (const auto &command : context_.section->commands) {
        if (context_.section->find_command(command.name) == &command) {  // each name once
            list += (list.empty() ? "" : ", ") + command.name;
        }
    }
    return list;
}

void Channel::refuse(int code, const std::string &message) {
    refused_code_ = code;
    refusal_ = "k8psh: " + message + "\n";
}

void Channel::start_command(const std::string &exec_string) {
    if (exec_parts_.too_long()) {
        refuse(exit_code::kUsage, "argument list too long (limit " + std::to_string(kMaxExecBytes) + " bytes)");
        return;
    }
    std::vector<std::string> words;
    try {
        words = split_command(exec_string);
    } catch (const SplitError &error) {
        refuse(exit_code::kUsage, std::string("cannot split command line: ") + error.what());
        return;
    }
    if (words.empty()) {
        refuse(exit_code::kUnknownCommand, "no shell here; run one of: " + allowed_commands());
        return;
    }
    const Command *command = context_.section->find_command(words[0]);
    if (command == nullptr) {
        refuse(exit_code::kUnknownCommand, "unknown command '" + words[0] + "' on server '" + context_.section->name +
                                               "'; allowed: " + allowed_commands());
        return;
    }
    command_name_ = command->name;

    SpawnRequest request;
    try {
        auto cwd = client_env_.find(kCwdName);
        request.directory = map_workdir(context_.config->base_directory, cwd == client_env_.end() ? "" : cwd->second);
    } catch (const WorkdirError &error) {
        refuse(exit_code::kUsage, error.what());
        return;
    }
    request.argv = command->argv;
    request.argv.insert(request.argv.end(), words.begin() + 1, words.end());
    request.env = build_command_env(*command, client_env_, process_env());
    // The client asks only when its stdout and stderr are one file; a PTY is one stream anyway.
    request.merge_stderr = !want_pty_ && client_env_.count(kMergeStderrName) != 0;
    if (want_pty_) {
        bool has_term = false;
        for (const auto &entry : request.env) {
            has_term = has_term || entry.first == "TERM";
        }
        if (!has_term) {
            request.env.emplace_back("TERM", term_);
        }
        if (!pty_.open(window_)) {
            refuse(exit_code::kCannotExecute, std::string("cannot allocate a terminal: ") + strerror(errno));
            return;
        }
        request.pty_path = pty_.slave_path();
    }
    if (context_.max_commands >= 0) {
        long number = ++*context_.started;
        if (number > context_.max_commands) {
            refuse(exit_code::kConnection, "server '" + context_.section->name + "' has run its " +
                                               std::to_string(context_.max_commands) +
                                               " command(s) (--max-connections) and is exiting");
            return;
        }
        if (number == context_.max_commands) {
            uint64_t one = 1;
            (void)!write(context_.wake_fd, &one, sizeof one);
        }
    }
    pending_spawn_ = std::move(request);
    if (take_command_slot()) {
        spawn_pending();
    }
}

// --max-sessions: false while the command waits in line (the loop polls the ticket's wake fd)
// or when it cannot wait at all (then refused).
bool Channel::take_command_slot() {
    CommandSlots *slots = context_.command_slots;
    if (slots == nullptr) {
        return true;
    }
    slot_.wake_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    if (slot_.wake_fd < 0) {
        refuse(exit_code::kCannotExecute, std::string("cannot wait for a session slot: ") + strerror(errno));
        return false;
    }
    if (slots->take_or_wait(slot_)) {
        return true;
    }
    phase_ = Phase::Queued;
    K8PSH_DEBUG_LOG("server", "{}: {} waits for a free session slot", peer_, command_name_);
    return false;
}

void Channel::give_back_command_slot() {
    if (context_.command_slots != nullptr) {
        context_.command_slots->give_back(slot_);
    }
}

void Channel::spawn_pending() {
    SpawnRequest request = std::move(pending_spawn_);
    SpawnFailure failure;
    if (!spawn_command(request, child_, failure)) {
        give_back_command_slot();
        refuse(failure.exit_code,
               "cannot execute '" + request.argv[0] + "' in " + request.directory + ": " + strerror(failure.error));
        return;
    }
    pty_.close_slave();
    child_running_ = true;
    K8PSH_DEBUG_LOG("server", "{}: started {} (pid {})", peer_, command_name_, child_.pid);
}

}  // namespace k8psh::server_detail
