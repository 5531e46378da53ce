#pragma once
// Working-directory mapping (README: Working directory): the client's cwd relative to its baseDirectory is
// applied under the server's baseDirectory. Pure, lexical.
#include <stdexcept>
#include <string>

namespace k8psh {

class WorkdirError : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

// "" for the base itself, else "a/b". Both paths absolute. A cwd outside base throws
// WorkdirError naming both paths.
std::string relative_workdir(const std::string &base, const std::string &cwd);

// base + relative, rejecting absolute or escaping ("..") relative paths with WorkdirError.
std::string map_workdir(const std::string &base, const std::string &relative);

}  // namespace k8psh
