// Temporary files and staging directories that must not outlive an interrupted
// command. Outputs (io/output_file.hpp) and the SMT export (proofs/smt_export.hpp)
// register what they create and unregister it once it is renamed into place or
// removed. On SIGINT, SIGTERM or SIGHUP the handler that install_signal_cleanup()
// installs removes every registered path (a directory with the files directly in
// it: staging directories are flat) and ends the process with 128 + the signal's
// number (130 for SIGINT, 143 for SIGTERM), as a shell reports a killed command.
//
// The handler uses only async-signal-safe calls (unlink, rmdir, open, getdents64,
// unlinkat, _exit) on a fixed table of paths, so it may run in any thread at any
// moment. The table holds kCleanupSlots paths of up to kCleanupPathBytes bytes;
// a path that does not fit is not registered (and survives an interrupt, as every
// file did before), which register_cleanup reports by returning -1.
//
// The Python module does not install the handler (Python owns SIGINT there);
// registration is harmless without it.
#pragma once

#include <string>

namespace iclcert {

inline constexpr int kCleanupSlots = 256;
inline constexpr int kCleanupPathBytes = 4096;

// Registers `path` for removal on a signal; returns its slot, or -1 when the
// table is full or the path too long.
int register_cleanup(const std::string& path);
// Forgets a slot returned by register_cleanup (-1 is ignored).
void unregister_cleanup(int slot);

// Installs the handler for SIGINT, SIGTERM and SIGHUP (the command line only).
void install_signal_cleanup();

}  // namespace iclcert
