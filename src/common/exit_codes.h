#pragma once
// k8psh's own exit codes (README: Exit codes). A command's own code passes through unchanged.
namespace k8psh::exit_code {
inline constexpr int kUsage = 2;             // bad command line, configuration or working directory
inline constexpr int kCannotExecute = 126;   // configured executable exists but cannot run
inline constexpr int kUnknownCommand = 127;  // not in the configuration, or executable not found
inline constexpr int kConnection = 255;      // connection, authentication or protocol failure
inline constexpr int kSignalBase = 128;      // killed by signal N → 128 + N
}  // namespace k8psh::exit_code
