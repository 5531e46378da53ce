#pragma once
// What client and server agree on beyond RFC 4254 (README: How a command runs): names of the extra env requests,
// the bound on a command line, and how a long one is split and joined. Both sides use this, so they cannot drift
// apart.
#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace k8psh::wire {

// The client's cwd relative to its baseDirectory.
inline constexpr const char *kCwdName = "K8PSH_CWD";
// Long argv travels in pieces as env requests of this name ahead of the exec request: one SSH
// packet carries at most 256 KiB in libssh (less in other peers), link lines can be longer.
inline constexpr const char *kArgvPartName = "K8PSH_ARGV_PART";
// Sent (value "1") when the client's stdout and stderr are the same open file (`2>&1`, or
// `>f 2>f`) and there is no PTY: the command then gets one pipe for both, so their
// interleaving is exactly the command's own. Two channel streams cannot keep it.
inline constexpr const char *kMergeStderrName = "K8PSH_MERGE_STDERR";
// Pieces the client sends, and the most quoted argv either side accepts.
inline constexpr std::size_t kArgvPartBytes = 32u << 10;
inline constexpr std::size_t kMaxExecBytes = 16u << 20;

// The client's side of a long command line: `parts` go ahead as kArgvPartName env requests, in
// order, each exactly kArgvPartBytes; the exec request carries `tail` (at most kArgvPartBytes).
struct ExecPieces {
    std::vector<std::string> parts;
    std::string tail;
};
ExecPieces split_exec(std::string_view exec);

// The server's side: collects the parts as they arrive and joins them with the exec request.
class ExecAssembler {
public:
    // A part that would take the whole past kMaxExecBytes is dropped and marks it too long.
    void add_part(std::string_view part);
    // The whole quoted argv; the assembler holds nothing afterwards.
    std::string finish(std::string_view tail);
    bool too_long() const { return too_long_; }

private:
    std::string joined_;
    bool too_long_ = false;
};

}  // namespace k8psh::wire
