#include "server_session_state.h"

#include "argv_quoting.h"
#include "log.h"
#include "openssh_format.h"
#include "signals.h"
#include "workdir.h"

#include <algorithm>
#include <cerrno>
#include <csignal>
#include <cstring>
#include <sys/eventfd.h>
#include <unistd.h>

namespace k8psh::server_detail {

int Session::on_auth_pubkey(ssh_key key, char state) {
    char *offered = nullptr;
    bool match = false;
    if (ssh_pki_export_pubkey_base64(key, &offered) == SSH_OK) {
        const auto &allowed = context_.client_key_blob;
        match =
            same_key_base64(offered, std::string_view(reinterpret_cast<const char *>(allowed.data()), allowed.size()));
        ssh_string_free_char(offered);
    }
    // OpenSSH first asks whether the key would do (state NONE, answered "it would" and nothing
    // more), then signs: only a signature libssh has verified (VALID) lets anyone in. Any other
    // state is a failed or unverifiable signature, whatever the key.
    if (!match || (state != SSH_PUBLICKEY_STATE_NONE && state != SSH_PUBLICKEY_STATE_VALID)) {
        ++auth_failures_;
        K8PSH_DEBUG_LOG("server", "{}: public key refused", peer_);
        return SSH_AUTH_DENIED;
    }
    if (state == SSH_PUBLICKEY_STATE_VALID) {
        K8PSH_DEBUG_LOG("server", "{}: authenticated", peer_);
        leave_startup_slot();  // a startup slot is for strangers only
    }
    return SSH_AUTH_SUCCESS;
}

ssh_channel Session::on_channel_open() {
    if (channel_ != nullptr) {
        return nullptr;  // one command per connection
    }
    channel_ = ssh_channel_new(ssh_);
    channel_callbacks_.userdata = this;
    channel_callbacks_.channel_env_request_function = env_cb;
    channel_callbacks_.channel_exec_request_function = exec_cb;
    channel_callbacks_.channel_shell_request_function = shell_cb;
    channel_callbacks_.channel_subsystem_request_function = subsystem_cb;
    channel_callbacks_.channel_pty_request_function = pty_cb;
    channel_callbacks_.channel_pty_window_change_function = window_change_cb;
    channel_callbacks_.channel_signal_function = signal_cb;
    channel_callbacks_.channel_close_function = close_cb;
    ssh_callbacks_init(&channel_callbacks_);
    ssh_set_channel_callbacks(channel_, &channel_callbacks_);
    return channel_;
}

int Session::on_env(const char *name, const char *value) {
    if (exec_requested_ || ++env_requests_ > kMaxEnvRequests) {
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

int Session::on_exec(const char *command) {
    if (exec_requested_) {
        return SSH_ERROR;
    }
    begin_command();
    start_command(exec_parts_.finish(command));
    return SSH_OK;
}

int Session::on_pty(const char *term, const WindowSize &size) {
    if (exec_requested_) {
        return SSH_ERROR;
    }
    want_pty_ = true;
    term_ = term;
    window_ = size;
    return SSH_OK;
}

void Session::on_window_change(const WindowSize &size) {
    window_ = size;
    pty_.resize(size);
}

void Session::on_signal(const char *name) {
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

std::string Session::allowed_commands() const {
    std::string list;
    for (const auto &command : context_.section->commands) {
        if (context_.section->find_command(command.name) == &command) {  // each name once
            list += (list.empty() ? "" : ", ") + command.name;
        }
    }
    return list;
}

void Session::refuse(int code, const std::string &message) {
    refused_code_ = code;
    refusal_ = "k8psh: " + message + "\n";
}

void Session::start_command(const std::string &exec_string) {
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
bool Session::take_command_slot() {
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
    waiting_for_slot_ = true;
    K8PSH_DEBUG_LOG("server", "{}: {} waits for a free session slot", peer_, command_name_);
    return false;
}

void Session::give_back_command_slot() {
    if (context_.command_slots != nullptr) {
        context_.command_slots->give_back(slot_);
    }
}

void Session::spawn_pending() {
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
