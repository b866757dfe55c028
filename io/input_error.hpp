// Bad input: names the file, the field and what was expected. The CLI prints
// what() on one line and exits with status 2.
#pragma once

#include <cstdio>
#include <stdexcept>
#include <string>

namespace iclcert {

namespace detail {
// A name taken from the input (a file path, a field path built from the file's
// keys) as it may appear in a one-line message: control characters escaped as
// \xNN, and at most `max_chars` characters, then "...". A key holding a newline
// or a megabyte of text must not make the message span lines or screens.
inline std::string printable_name(const std::string& name, std::size_t max_chars = 200) {
  std::string out;
  for (const unsigned char c : name) {
    if (out.size() >= max_chars) return out + "...";
    if (c < 0x20 || c == 0x7f) {
      char hex[5];
      std::snprintf(hex, sizeof hex, "\\x%02x", c);
      out += hex;
    } else {
      out += static_cast<char>(c);
    }
  }
  return out;
}
}  // namespace detail

class InputError : public std::runtime_error {
 public:
  InputError(const std::string& file, const std::string& field, const std::string& expected)
      : std::runtime_error(detail::printable_name(file) +
                           (field.empty() ? "" : ": field " + detail::printable_name(field)) + ": " + expected),
        file_(file), field_(field) {}
  const std::string& file() const { return file_; }
  const std::string& field() const { return field_; }

 private:
  std::string file_, field_;
};

}  // namespace iclcert
