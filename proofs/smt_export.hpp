// `prove --export DIR`: the queries' SMT-LIB2 files appear in DIR only when the
// whole command succeeds. DIR is checked before any work (SmtExport's
// constructor); the files are written into a staging directory beside DIR
// (stage), and moved into place last (commit): by one rename when DIR did not
// exist, file by file (each rename atomic) into an existing directory.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

namespace iclcert::proofs {

struct SmtFile {
  std::string name;  // the query's name: the file is NAME.smt2
  std::string text;
};

class SmtExport {
 public:
  // Throws InputError (exit 2) naming `dir` when it exists and is not a
  // directory, when its parent directory does not exist, or when the staging
  // directory beside it cannot be created (e.g. under /proc).
  explicit SmtExport(const std::string& dir);
  SmtExport(const SmtExport&) = delete;
  SmtExport& operator=(const SmtExport&) = delete;
  ~SmtExport();  // removes the staging directory unless committed

  void stage(const std::vector<SmtFile>& files);  // throws InputError
  void commit();                                  // throws InputError

 private:
  std::string option_;  // "--export DIR", for messages
  std::filesystem::path dir_, staging_;
  bool dir_existed_ = false, committed_ = false;
  int cleanup_slot_ = -1;  // io/cleanup.hpp: the staging directory goes on SIGINT/SIGTERM
};

}  // namespace iclcert::proofs
