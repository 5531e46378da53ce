#pragma once
// The environment a command gets, built from its rules (README: Configuration), what the client sent and the
// server's own environment. Pure: both environments are passed in.
#include "config.h"

#include <map>
#include <string>
#include <utility>
#include <vector>

namespace k8psh {

using EnvMap = std::map<std::string, std::string>;
using EnvList = std::vector<std::pair<std::string, std::string>>;

// Names whose client values the client must send for this command: every rule's NAME except
// =NAME= rules, each once. Templates need nothing more: like upstream, a `${NAME}` in a template
// sees the values already built for this command (so the client's value when an earlier
// NAME=/?NAME= entry took it), else the server's own; see build_command_env.
std::vector<std::string> client_env_names(const Command &command);

// The command's environment: exactly the configured names, each once, in list order.
// `client` holds what the client sent (only names from client_env_names are honoured);
// `server` is the server's own environment.
EnvList build_command_env(const Command &command, const EnvMap &client, const EnvLookup &server);

}  // namespace k8psh
