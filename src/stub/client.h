#pragma once
// The client face and stubs: run one configured command on the server that exposes it and
// behave like the local program (argv, environment, cwd, stdio, terminal, exit code).
#include "config.h"
#include "run_request.h"

#include <optional>
#include <string>
#include <vector>

namespace k8psh {

enum class TtyMode { Auto, Always, Never };

struct ClientRequest {
    const Config *config = nullptr;
    const ServerSection *section = nullptr;
    const Command *command = nullptr;
    std::vector<std::string> args;  // after the command name
    std::string key_directory;
    TtyMode tty = TtyMode::Auto;
};

// Returns the exit code to exit with (the remote command's, or k8psh's own, README: Exit codes).
int run_remote(const ClientRequest &request);

// run_remote's usual case alone, before the static constructors have run (main.cpp): the
// outcome of a run the container's reuse master served; nullopt, having run nothing and said
// nothing (not even starting a master), otherwise: run_remote then does it all.
std::optional<RunOutcome> run_if_master_serves(const ClientRequest &request);

// --check: probes each server with an authenticated connection; prints one line per server and
// command. Returns 0 when all answer, 255 otherwise.
int check_servers(const Config &config, const std::string &key_directory);

}  // namespace k8psh
