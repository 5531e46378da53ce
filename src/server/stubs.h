#pragma once
// Stubs: symlinks named after commands, pointing at the k8psh binary (README: the table at the top).
#include "config.h"

#include <string>
#include <vector>

namespace k8psh {

struct StubOptions {
    std::string directory;       // where the stubs go
    std::string target;          // the binary they point at
    std::string local_server;    // this server's name: its own commands are skipped...
    bool include_local = false;  // ...unless -l
    bool overwrite = false;      // replace files that are not our stubs (-o)
};

// Writes a stub for each command; returns the paths this call created (for removal at exit).
// Existing stubs pointing at the target are left alone; other files are kept (with a warning)
// unless `overwrite`. Throws std::runtime_error when the directory cannot be written.
std::vector<std::string> write_stubs(const Config &config, const StubOptions &options);

void remove_stubs(const std::vector<std::string> &paths);

}  // namespace k8psh
