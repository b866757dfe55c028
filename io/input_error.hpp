// Bad input: names the file, the field and what was expected. The CLI prints
// what() on one line and exits with status 2.
#pragma once

#include <stdexcept>
#include <string>

namespace iclcert {

class InputError : public std::runtime_error {
 public:
  InputError(const std::string& file, const std::string& field, const std::string& expected)
      : std::runtime_error(file + (field.empty() ? "" : ": field " + field) + ": " + expected),
        file_(file), field_(field) {}
  const std::string& file() const { return file_; }
  const std::string& field() const { return field_; }

 private:
  std::string file_, field_;
};

}  // namespace iclcert
