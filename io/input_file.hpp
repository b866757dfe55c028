// Inputs that a reader could wait on for ever are refused before it opens them.
#pragma once

#include <string>

namespace iclcert {

// Refuses a FIFO, a socket or a block device (InputError naming `path`, exit 2):
// opening a FIFO blocks until someone writes to it, which may be never. Standard
// input and the process's own descriptors (/dev/stdin, /dev/fd/N, `<(command)`)
// are let through, as are character devices such as
// /dev/zero (the readers' size cap ends those) and missing files, which the
// reader reports itself.
void check_input_file(const std::string& path);

}  // namespace iclcert
