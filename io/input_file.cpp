#include "io/input_file.hpp"

#include "io/input_error.hpp"

#include <sys/stat.h>

namespace iclcert {

void check_input_file(const std::string& path) {
  // Standard input and the process's own descriptors (/dev/fd/N, /proc/self/fd/N,
  // as `<(command)` gives): pipes already open, which an open does not wait on.
  if (path.empty() || path == "-" || path == "/dev/stdin" || path.starts_with("/dev/fd/") ||
      path.starts_with("/proc/self/fd/"))
    return;
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) return;
  const char* kind = S_ISFIFO(st.st_mode)   ? "a FIFO (named pipe)"
                     : S_ISSOCK(st.st_mode) ? "a socket"
                     : S_ISBLK(st.st_mode)  ? "a block device"
                                            : nullptr;
  if (kind)
    throw InputError(path, "", std::string("is ") + kind + ", not a regular file: give a file (or /dev/stdin for a pipe)");
}

}  // namespace iclcert
