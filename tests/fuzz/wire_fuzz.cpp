// Fuzzes the long command line's wire unit (wire.h) from both ends.
// - The client's split: any command line, made long by repeating the input, splits into full
//   parts and one tail that join back to it byte for byte.
// - The server's assembly of what a client (or an attacker) sends: any sequence of part sizes,
//   then a tail. Within the bound the joined line is exactly what was sent, in order; past it
//   the assembler says too long, keeps exactly the parts that fitted and never more than the
//   bound.
#include "fuzz_check.h"
#include "wire.h"

#include <cstdint>
#include <cstring>
#include <fuzzer/FuzzedDataProvider.h>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace {

using k8psh::wire::kArgvPartBytes;
using k8psh::wire::kMaxExecBytes;

void check_split(FuzzedDataProvider &data) {
    // Up to ~40 parts: both the exact-multiple and the one-byte-over cases come up often.
    const std::size_t repeat = data.ConsumeIntegralInRange<std::size_t>(0, 40 * 1024);
    const std::string unit = data.ConsumeRandomLengthString(64);
    std::string exec;
    for (std::size_t i = 0; i < repeat && !unit.empty(); ++i) {
        exec += unit;
    }
    exec += data.ConsumeRandomLengthString(64);

    const k8psh::wire::ExecPieces pieces = k8psh::wire::split_exec(exec);
    std::string joined;
    for (const auto &part : pieces.parts) {
        FUZZ_CHECK(part.size() == kArgvPartBytes);
        joined += part;
    }
    FUZZ_CHECK(pieces.tail.size() <= kArgvPartBytes);
    // The exec request always carries something when there is something to carry.
    FUZZ_CHECK(exec.empty() || !pieces.tail.empty());
    joined += pieces.tail;
    FUZZ_CHECK(joined == exec);

    // And the server puts a client's pieces back together exactly.
    k8psh::wire::ExecAssembler assembler;
    for (const auto &part : pieces.parts) {
        assembler.add_part(part);
    }
    FUZZ_CHECK(assembler.too_long() == (exec.size() - pieces.tail.size() > kMaxExecBytes));
    if (!assembler.too_long()) {
        FUZZ_CHECK(assembler.finish(pieces.tail) == exec);
    }
}

// True when `whole` is the runs (size, fill byte), in order, followed by `tail`.
bool is_runs_then(std::string_view whole, const std::vector<std::pair<std::size_t, char>> &runs,
                  std::string_view tail) {
    std::size_t at = 0;
    for (const auto &[size, fill] : runs) {
        if (whole.size() - at < size || whole.substr(at, size).find_first_not_of(fill) != std::string_view::npos) {
            return false;
        }
        at += size;
    }
    return whole.substr(at) == tail;
}

void check_hostile_parts(FuzzedDataProvider &data) {
    // One scratch buffer for every part: the parts are views, so an input costs the assembler's
    // own copying and nothing more, and many inputs reach the 16 MiB bound.
    static std::string scratch(2 * kArgvPartBytes, '\0');
    k8psh::wire::ExecAssembler assembler;
    std::vector<std::pair<std::size_t, char>> kept;  // the parts that fitted, as sent
    std::size_t kept_bytes = 0;
    bool over = false;
    const int count = data.ConsumeIntegralInRange<int>(0, 600);
    for (int i = 0; i < count && data.remaining_bytes() > 0; ++i) {
        // Sizes from empty to twice a client's part: a peer need not follow our own split.
        const std::size_t size = data.ConsumeIntegralInRange<std::size_t>(0, 2 * kArgvPartBytes);
        const char fill = static_cast<char>(data.ConsumeIntegral<std::uint8_t>());
        std::memset(scratch.data(), fill, size);
        if (kept_bytes + size > kMaxExecBytes) {
            over = true;  // dropped, as the assembler must drop it
        } else {
            kept.emplace_back(size, fill);
            kept_bytes += size;
        }
        assembler.add_part(std::string_view(scratch.data(), size));
        FUZZ_CHECK(assembler.too_long() == over);
    }
    const std::string tail = data.ConsumeRemainingBytesAsString();
    const std::string whole = assembler.finish(tail);
    FUZZ_CHECK(whole.size() == kept_bytes + tail.size());
    FUZZ_CHECK(kept_bytes <= kMaxExecBytes);
    FUZZ_CHECK(is_runs_then(whole, kept, tail));
    // finish() leaves nothing behind: the next command line starts empty.
    FUZZ_CHECK(assembler.finish("").empty());
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t *bytes, std::size_t size) {
    FuzzedDataProvider data(bytes, size);
    if (data.ConsumeBool()) {
        check_split(data);
    } else {
        check_hostile_parts(data);
    }
    return 0;
}
