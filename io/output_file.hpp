// Output files appear whole or not at all: the text goes to a temporary file
// beside the target, which is renamed over it only once complete.
#pragma once

#include <string>

namespace iclcert {

// Throws InputError (naming `path`) when the file cannot be written.
void write_file_atomically(const std::string& path, const std::string& text);

}  // namespace iclcert
