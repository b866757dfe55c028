// Output files appear whole or not at all, and only when the whole command
// succeeds: a command declares its outputs (and its inputs) up front, where they
// are checked, builds every text, and commits them together at the end.
//
// An output path may be
//  - "-" (or /dev/stdout): standard output, written at commit; from the moment
//    such an output is declared or checked, what the command prints as its report
//    goes to standard error, so that standard output carries the data alone;
//  - an existing file that is not a regular file (a device such as /dev/null or
//    /dev/full, a fifo), or anything under /dev or /proc: written in place, since
//    renaming over it would replace the device node or the link;
//  - anything else: written to a temporary file beside it and renamed over it
//    (over the target of a symbolic link, which stays a link).
// A directory, a path whose directory does not exist, and a path that is the
// same file as one of the command's inputs are refused (InputError, exit 2).
#pragma once

#include <fstream>
#include <iosfwd>
#include <memory>
#include <string>
#include <vector>

namespace iclcert {

class Outputs {
 public:
  // `inputs`: the files the command reads (empty strings are ignored).
  explicit Outputs(std::vector<std::string> inputs = {});
  Outputs(const Outputs&) = delete;
  Outputs& operator=(const Outputs&) = delete;
  ~Outputs();  // an uncommitted command leaves no temporary file behind

  // Adds a file read by the command; refused when it is a declared output.
  void add_input(const std::string& path);
  // Declares the output of `option` (for messages, e.g. "--json") and checks it
  // now. An empty path is ignored. Throws InputError.
  void declare(const std::string& option, const std::string& path);
  bool declared(const std::string& path) const;

  // The whole text of a declared output.
  void set(const std::string& path, std::string text);
  // A stream to a declared output, for output too large to hold in memory: it
  // goes to the temporary file (renamed at commit) or, for "-", straight out.
  std::ostream& stream(const std::string& path);

  // Writes every output. Regular files are written to temporary files first and
  // renamed only when all are written. Throws InputError.
  void commit();

 private:
  struct Output;
  Output& find(const std::string& path);
  std::vector<std::string> inputs_;
  std::vector<std::unique_ptr<Output>> outputs_;
  bool committed_ = false;
};

// Checks that `path` may be written by a command reading `inputs` (see above).
// Throws InputError.
void check_output_path(const std::string& path, const std::vector<std::string>& inputs = {});

// One output, checked against `inputs` and written as above.
void write_output(const std::string& path, const std::string& text, const std::vector<std::string>& inputs = {});

}  // namespace iclcert
