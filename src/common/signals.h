#pragma once
// SSH names signals without the SIG prefix (RFC 4254 §6.10); these map them both ways.
#include <string>

namespace k8psh {

// "TERM" → SIGTERM; 0 for names we do not know.
int signal_from_ssh_name(const std::string &name);
// SIGTERM → "TERM"; "" for signals without an SSH name.
std::string ssh_name_of_signal(int signal);

}  // namespace k8psh
