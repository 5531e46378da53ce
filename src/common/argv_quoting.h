#pragma once
// The SSH exec string: the client joins argv with POSIX-shell quoting; the server splits
// it with quote rules only (no expansion, globbing, `;`, pipes or redirections). Pure.
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace k8psh {

// Quotes each word so that split_command gives it back byte for byte (and so does /bin/sh).
std::string quote_argv(const std::vector<std::string> &argv);

class SplitError : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

// Splits like a shell's word splitting and quote removal: whitespace separates words; '…' is
// literal; "…" keeps everything but backslash before $ ` " \ newline; a backslash outside quotes
// escapes the next byte (backslash-newline is removed). Throws SplitError on an unterminated
// quote or a trailing backslash.
std::vector<std::string> split_command(std::string_view text);

}  // namespace k8psh
