#pragma once
// Where a configured executable is found. Upstream ran execvp with the command's own
// environment, so a bare name was searched in the PATH the command receives (`?PATH=` hands it
// the client's); that is kept. Upstream also tried the working directory first; that is not:
// a file dropped into a shared workspace must never shadow a configured tool.
#include <optional>
#include <string>

namespace k8psh {

struct ExecutableLookup {
    std::string path;  // what to execute; empty when not found
    int error = 0;     // ENOENT when nothing matched, EACCES when only non-executable files did
};

// `name` with a slash is used as it is. A bare name is searched in the absolute entries of
// `command_path` (the PATH of the command's environment) when it has one, else in those of
// `server_path`; empty, `.` and relative entries are skipped.
ExecutableLookup find_executable(const std::string &name, const std::optional<std::string> &command_path,
                                 const std::string &server_path);

}  // namespace k8psh
