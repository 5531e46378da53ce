#include "wire.h"

#include <utility>

namespace k8psh::wire {

ExecPieces split_exec(std::string_view exec) {
    ExecPieces pieces;
    // Only while more than one piece is left: the exec request always carries the last one, so
    // a command line of exactly kArgvPartBytes still goes in one request.
    while (exec.size() > kArgvPartBytes) {
        pieces.parts.emplace_back(exec.substr(0, kArgvPartBytes));
        exec.remove_prefix(kArgvPartBytes);
    }
    pieces.tail = exec;
    return pieces;
}

void ExecAssembler::add_part(std::string_view part) {
    // Past the bound, the part is dropped but remembered: the command is refused with a message
    // once it is asked for, instead of the connection failing on an env request.
    if (joined_.size() + part.size() > kMaxExecBytes) {
        too_long_ = true;
    } else {
        joined_.append(part);
    }
}

std::string ExecAssembler::finish(std::string_view tail) {
    std::string whole = std::move(joined_);
    whole.append(tail);
    joined_ = std::string();  // a moved-from string may keep its buffer; this one holds none
    return whole;
}

}  // namespace k8psh::wire
