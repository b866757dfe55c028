// Output files appear whole or not at all, and only when the whole command
// succeeds: a command declares its outputs (and its inputs) up front, where they
// are checked, builds every text, and commits them together at the end.
//
// An output path may be
//  - "-" (or /dev/stdout): standard output, written at commit; from the moment
//    such an output is declared or checked, what the command prints as its report
//    goes to standard error, so that standard output carries the data alone;
//  - a character device (/dev/null, /dev/full, a terminal), a pipe reached through
//    /dev or /proc (/dev/stderr, /dev/fd/N: already open), or a path under /dev
//    or /proc that does not exist: written in place, never replaced;
//  - a regular file or a new name: written to a temporary file beside it and
//    renamed over it. A symbolic link (a chain of them, a dangling one) is
//    followed to its end, which is written; the links stay links.
// Refused (InputError, exit 2) when declared, before any work: a directory, a FIFO,
// a socket or a block device; a loop of links; a path whose directory does not
// exist or cannot be written; a path that is the same file as one of the command's
// inputs or as another output, however spelt (compared by device and inode, and by
// the canonical directory plus the name, so ./a, a, a hard link and a link to a
// are one file).
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

  // Writes every output, or none: regular files go to temporary files first
  // (flushed, fsync'd), devices and standard output next, and the renames come
  // last, undone if one of them fails. Throws InputError; an uncommitted or failed
  // command leaves every existing file byte for byte as it was.
  void commit();

 private:
  struct Output;
  Output& find(const std::string& path);
  void rename_into_place();
  std::vector<std::string> inputs_;
  std::vector<std::unique_ptr<Output>> outputs_;
  bool committed_ = false;
};

// Checks that `path` may be written by a command reading `inputs` (see above).
// Throws InputError.
void check_output_path(const std::string& path, const std::vector<std::string>& inputs = {});
// The same, with errors naming `option` ("--json out.json: ...").
void check_output_path(const std::string& option, const std::string& path, const std::vector<std::string>& inputs);

// One output, checked against `inputs` and written as above.
void write_output(const std::string& path, const std::string& text, const std::vector<std::string>& inputs = {});
void write_output(const std::string& option, const std::string& path, const std::string& text,
                  const std::vector<std::string>& inputs);


}  // namespace iclcert
