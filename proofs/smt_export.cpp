#include "proofs/smt_export.hpp"

#include "io/cleanup.hpp"
#include "io/input_error.hpp"

#include <cerrno>
#include <cstring>
#include <fstream>
#include <unistd.h>

namespace iclcert::proofs {
namespace fs = std::filesystem;

SmtExport::SmtExport(const std::string& dir) : option_("--export " + dir), dir_(dir) {
  if (dir.empty()) throw InputError("--export", "", "needs a directory");
  // "smt/" names the directory smt: drop trailing separators so that the
  // staging directory is a sibling, not a child.
  while (!dir_.has_filename() && dir_.has_parent_path() && dir_ != dir_.root_path()) dir_ = dir_.parent_path();
  std::error_code ec;
  const fs::file_status st = fs::status(dir_, ec);
  if (fs::exists(st)) {
    if (!fs::is_directory(st)) throw InputError(option_, "", "exists and is not a directory");
    dir_existed_ = true;
    if (::access(dir_.c_str(), W_OK | X_OK) != 0)
      throw InputError(option_, "", std::string("cannot write into the directory: ") + std::strerror(errno));
  }
  fs::path parent = dir_.parent_path();
  if (parent.empty()) parent = ".";
  if (!fs::is_directory(parent, ec))
    throw InputError(option_, "", "its parent directory " + parent.string() + " does not exist");
  const std::string leaf = dir_ == dir_.root_path() ? "root" : dir_.filename().string();
  staging_ = parent / ("." + leaf + ".iclcert-export." + std::to_string(::getpid()));
  fs::remove_all(staging_, ec);
  cleanup_slot_ = register_cleanup(staging_.string());  // before it exists: no moment without it
  if (!fs::create_directory(staging_, ec) || ec)
    throw InputError(option_, "", "cannot create a directory beside it (" + staging_.string() + "): " +
                                      (ec ? ec.message() : std::string("it exists")));
}

SmtExport::~SmtExport() {
  if (committed_ || staging_.empty()) return;
  std::error_code ec;
  fs::remove_all(staging_, ec);
  unregister_cleanup(cleanup_slot_);
}

void SmtExport::stage(const std::vector<SmtFile>& files) {
  for (const SmtFile& f : files) {
    const fs::path p = staging_ / (f.name + ".smt2");
    std::ofstream out(p, std::ios::binary | std::ios::trunc);
    if (!out) throw InputError(option_, "", "cannot write " + p.string() + ": " + std::strerror(errno));
    out << f.text;
    out.flush();
    if (!out) throw InputError(option_, "", "writing " + p.string() + " failed (disk full?)");
  }
}

void SmtExport::commit() {
  std::error_code ec;
  if (!dir_existed_) {
    fs::rename(staging_, dir_, ec);
    if (ec) throw InputError(option_, "", "cannot move the export into place: " + ec.message());
    unregister_cleanup(cleanup_slot_);
    committed_ = true;
    return;
  }
  for (const auto& entry : fs::directory_iterator(staging_)) {
    fs::rename(entry.path(), dir_ / entry.path().filename(), ec);
    if (ec) throw InputError(option_, "", "cannot move " + entry.path().filename().string() + " into place: " + ec.message());
  }
  fs::remove(staging_, ec);
  unregister_cleanup(cleanup_slot_);
  committed_ = true;
}

}  // namespace iclcert::proofs
