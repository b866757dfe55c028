#include "io/output_file.hpp"

#include "io/cleanup.hpp"
#include "io/input_error.hpp"

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fcntl.h>
#include <filesystem>
#include <iostream>
#include <sys/stat.h>
#include <unistd.h>

namespace iclcert {
namespace fs = std::filesystem;
namespace {

enum class Kind { standard_output, in_place, renamed };

bool is_standard_output(const std::string& path) {
  return path == "-" || path == "/dev/stdout" || path == "/dev/fd/1" || path == "/proc/self/fd/1";
}

// Once an output goes to standard output, the command's report (its printf lines)
// goes to standard error, so that `--json - | jq` reads JSON alone: descriptor 1
// becomes a copy of 2, and the data is written to the saved original.
int data_fd = -1;

void claim_standard_output() {
  if (data_fd >= 0) return;
  std::cout.flush();
  std::fflush(stdout);
  const int saved = ::dup(STDOUT_FILENO);
  if (saved < 0 || ::dup2(STDERR_FILENO, STDOUT_FILENO) < 0) {
    if (saved >= 0) ::close(saved);
    return;  // no separate stream to give the report: it stays with the data
  }
  data_fd = saved;
}

// Descriptor 1 as the data's (to_data) or the report's (after writing the data).
void point_standard_output(bool to_data) {
  if (data_fd < 0) return;
  std::cout.flush();
  std::fflush(stdout);
  ::dup2(to_data ? data_fd : STDERR_FILENO, STDOUT_FILENO);
}

bool under_system_tree(const std::string& path) {
  std::error_code ec;
  const std::string abs = fs::absolute(path, ec).lexically_normal().string();
  return abs.rfind("/dev/", 0) == 0 || abs.rfind("/proc/", 0) == 0;
}

std::string label(const std::string& option, const std::string& path) {
  return option.empty() ? path : option + " " + path;
}

std::string file_type_name(mode_t mode) {
  if (S_ISFIFO(mode)) return "a FIFO (named pipe)";
  if (S_ISSOCK(mode)) return "a socket";
  if (S_ISBLK(mode)) return "a block device";
  return "not a regular file";
}

// Where an output path leads: its kind, the file a rename replaces (the end of a
// chain of symbolic links, which stay links), and the file's identity, so that two
// spellings of one file (./a, a, a hard link, a link to it) are known as one.
struct Resolved {
  Kind kind = Kind::renamed;
  std::string target;
  std::string identity;  // canonical directory + name, "" for standard output
  bool exists = false;
  dev_t dev = 0;
  ino_t ino = 0;
};

// `name`: how errors name the output ("--json out.json").
Resolved resolve(const std::string& name, const std::string& path) {
  Resolved r;
  if (is_standard_output(path)) {
    r.kind = Kind::standard_output;
    return r;
  }
  // Follow the links by hand: a dangling link is written through (its target is
  // created), a loop is refused; fs::weakly_canonical would replace either link.
  fs::path p = path;
  struct stat st {};
  int hops = 0;
  for (;; ++hops) {
    if (hops > 40) throw InputError(name, "", "is a loop of symbolic links (or a chain of more than 40)");
    if (::lstat(p.c_str(), &st) != 0) {
      if (errno == ENOENT) break;
      if (errno == ELOOP) throw InputError(name, "", "its directory is reached through a loop of symbolic links");
      throw InputError(name, "", std::string("cannot examine the output path: ") + std::strerror(errno));
    }
    r.exists = true;
    if (!S_ISLNK(st.st_mode)) break;
    r.exists = false;
    std::error_code ec;
    const fs::path link = fs::read_symlink(p, ec);
    if (ec) throw InputError(name, "", "cannot read the symbolic link: " + ec.message());
    p = link.is_absolute() ? link : p.parent_path() / link;
  }
  r.target = p.string();
  if (r.exists) {
    r.dev = st.st_dev;
    r.ino = st.st_ino;
    if (S_ISDIR(st.st_mode)) throw InputError(name, "", "is a directory: expected a file to write");
    // A character device (/dev/null, /dev/full, a terminal), or a pipe or socket
    // reached through /dev or /proc (/dev/stderr, /dev/fd/N: a descriptor already
    // open, so opening it does not wait): written in place, never replaced.
    if (S_ISCHR(st.st_mode) || (under_system_tree(path) && (S_ISFIFO(st.st_mode) || S_ISSOCK(st.st_mode)))) {
      r.kind = Kind::in_place;
      r.identity = "device:" + std::to_string(st.st_rdev);
      return r;
    }
    if (!S_ISREG(st.st_mode))
      throw InputError(name, "", "is " + file_type_name(st.st_mode) +
                                     ": expected a regular file, - for standard output, or a device such as /dev/null");
  } else if (under_system_tree(r.target)) {
    r.kind = Kind::in_place;  // e.g. /proc/self/fd/N: written where it is, never renamed
    r.identity = r.target;
    return r;
  }
  fs::path dir = p.parent_path();
  if (dir.empty()) dir = ".";
  std::error_code ec;
  if (!fs::is_directory(dir, ec))
    throw InputError(name, "", "cannot write the output file: its directory " + dir.string() + " does not exist");
  if (::access(dir.c_str(), W_OK | X_OK) != 0)
    throw InputError(name, "", "cannot write into its directory " + dir.string() + ": " + std::strerror(errno));
  const fs::path canonical_dir = fs::canonical(dir, ec);
  r.identity = ((ec ? dir : canonical_dir) / p.filename()).string();
  return r;
}

bool same_file(const Resolved& a, const Resolved& b) {
  if (a.kind == Kind::standard_output || b.kind == Kind::standard_output) return false;
  if (a.exists && b.exists && a.dev == b.dev && a.ino == b.ino) return true;
  return !a.identity.empty() && a.identity == b.identity;
}

// Refuses an output that is one of `inputs` under any spelling.
void check_not_an_input(const std::string& name, const Resolved& out, const std::vector<std::string>& inputs) {
  if (out.kind == Kind::standard_output) return;
  for (const auto& in : inputs) {
    if (in.empty() || in == "-") continue;
    bool same = false;
    struct stat st {};
    if (out.exists && ::stat(in.c_str(), &st) == 0) same = st.st_dev == out.dev && st.st_ino == out.ino;
    if (!same && out.kind == Kind::renamed) {
      std::error_code ec;
      const fs::path c = fs::weakly_canonical(in, ec);
      same = !ec && c.string() == out.identity;
    }
    if (same)
      throw InputError(name, "", "is also an input of this command (" + in +
                                     "): refusing to overwrite an input; write the output elsewhere");
  }
}

Resolved check_path(const std::string& name, const std::string& path, const std::vector<std::string>& inputs) {
  Resolved r = resolve(name, path);
  if (r.kind == Kind::standard_output) claim_standard_output();
  check_not_an_input(name, r, inputs);
  return r;
}

bool write_all(int fd, const std::string& text) {
  const char* at = text.data();
  std::size_t left = text.size();
  while (left > 0) {
    const ssize_t n = ::write(fd, at, left);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    at += n;
    left -= static_cast<std::size_t>(n);
  }
  return true;
}

// fsync of a closed file: its data on the disk before it replaces anything.
bool sync_file(const std::string& path) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return false;
  const bool ok = ::fsync(fd) == 0;
  return ::close(fd) == 0 && ok;
}

}  // namespace

void check_output_path(const std::string& path, const std::vector<std::string>& inputs) {
  if (!path.empty()) check_path(path, path, inputs);
}

void check_output_path(const std::string& option, const std::string& path, const std::vector<std::string>& inputs) {
  if (!path.empty()) check_path(label(option, path), path, inputs);
}

struct Outputs::Output {
  std::string option, path, tmp;
  Resolved where;
  bool has_text = false, streamed = false;
  std::string text;
  std::ofstream file;
  int tmp_slot = -1;  // io/cleanup.hpp: the temporary file goes on SIGINT/SIGTERM

  void open_tmp() {
    tmp_slot = register_cleanup(tmp);  // before the file exists: no moment without it
  }
  void drop_tmp() {
    if (file.is_open()) file.close();
    if (!tmp.empty()) std::remove(tmp.c_str());
    unregister_cleanup(tmp_slot);
    tmp_slot = -1;
  }
};

Outputs::Outputs(std::vector<std::string> inputs) : inputs_(std::move(inputs)) {}

Outputs::~Outputs() {
  if (committed_) return;
  for (auto& o : outputs_)
    if (o->where.kind == Kind::renamed) o->drop_tmp();
}

void Outputs::add_input(const std::string& path) {
  inputs_.push_back(path);
  for (const auto& o : outputs_) check_not_an_input(label(o->option, o->path), o->where, {path});
}

void Outputs::declare(const std::string& option, const std::string& path) {
  if (path.empty()) return;
  const std::string name = label(option, path);
  Resolved where = check_path(name, path, inputs_);
  for (const auto& o : outputs_) {
    // Standard output twice is one stream; a device twice (/dev/null) harms nothing.
    if (where.kind != Kind::renamed && (o->path == path || o->where.kind == where.kind)) continue;
    if (o->path == path || same_file(where, o->where))
      throw InputError(name, "", "is the same file as " + label(o->option, o->path) + ": give each output its own file");
  }
  auto out = std::make_unique<Output>();
  out->option = option;
  out->path = path;
  out->where = std::move(where);
  if (out->where.kind == Kind::renamed) out->tmp = out->where.target + ".tmp." + std::to_string(::getpid());
  outputs_.push_back(std::move(out));
}

bool Outputs::declared(const std::string& path) const {
  for (const auto& o : outputs_)
    if (o->path == path) return true;
  return false;
}

Outputs::Output& Outputs::find(const std::string& path) {
  for (auto& o : outputs_)
    if (o->path == path) return *o;
  throw std::logic_error("output " + path + " was not declared");
}

void Outputs::set(const std::string& path, std::string text) {
  Output& o = find(path);
  o.text = std::move(text);
  o.has_text = true;
}

std::ostream& Outputs::stream(const std::string& path) {
  Output& o = find(path);
  o.streamed = true;
  if (o.where.kind == Kind::standard_output) {
    point_standard_output(true);  // streamed data: the command prints no report meanwhile
    return std::cout;
  }
  if (!o.file.is_open()) {
    const bool renamed = o.where.kind == Kind::renamed;
    if (renamed) o.open_tmp();
    o.file.open(renamed ? o.tmp : o.path, std::ios::binary | std::ios::trunc);
    if (!o.file) throw InputError(label(o.option, o.path), "", std::string("cannot write the output file: ") + std::strerror(errno));
  }
  return o.file;
}

// Three steps, so that a failure anywhere leaves every existing file as it was:
//  1. every regular output is written to its temporary file, flushed, fsync'd and
//     closed (a full disk or a read-only folder fails here, before any change);
//  2. the outputs that cannot be undone, devices written in place and standard
//     output, are written (/dev/full fails here, still before any change);
//  3. the temporary files are renamed over their targets. A target that existed is
//     kept as a hard link until every rename has succeeded; if one fails, the
//     renamed ones get their old files back.
void Outputs::commit() {
  auto fail = [&](const Output& o, const std::string& what) {
    throw InputError(label(o.option, o.path), "", what);
  };
  for (auto& o : outputs_) {
    if (o->where.kind != Kind::renamed) continue;
    if (o->streamed) {
      o->file.flush();
      const bool written = static_cast<bool>(o->file);
      o->file.close();
      if (!written || o->file.fail()) fail(*o, "writing the output file failed (disk full?)");
      if (!sync_file(o->tmp)) fail(*o, std::string("writing the output file failed: ") + std::strerror(errno));
      continue;
    }
    if (!o->has_text) continue;
    o->open_tmp();
    const int fd = ::open(o->tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0666);
    if (fd < 0) fail(*o, std::string("cannot write the output file: ") + std::strerror(errno));
    const bool ok = write_all(fd, o->text) && ::fsync(fd) == 0;
    const int error = errno;
    if (::close(fd) != 0 || !ok) fail(*o, std::string("writing the output file failed: ") + std::strerror(ok ? errno : error));
  }
  for (auto& o : outputs_) {
    if (o->where.kind == Kind::in_place) {
      if (o->streamed) {
        o->file.flush();
        if (!o->file) fail(*o, std::string("writing failed: ") + std::strerror(errno));
        o->file.close();
      } else if (o->has_text) {
        std::ofstream out(o->path, std::ios::binary);
        if (!out) fail(*o, std::string("cannot write to it: ") + std::strerror(errno));
        out << o->text;
        out.flush();
        if (!out) fail(*o, std::string("writing failed: ") + std::strerror(errno));
      }
    } else if (o->where.kind == Kind::standard_output) {
      point_standard_output(true);
      if (o->has_text && !o->streamed) std::cout << o->text;
      std::cout.flush();
      const bool written = static_cast<bool>(std::cout);
      point_standard_output(false);
      if (!written) fail(*o, "writing to standard output failed");
    }
  }
  rename_into_place();
  committed_ = true;
}

void Outputs::rename_into_place() {
  struct Step {
    Output* out;
    std::string backup;  // a hard link to the file the rename replaces, "" if none
    int backup_slot = -1;
    bool renamed = false;
  };
  std::vector<Step> steps;
  for (auto& o : outputs_)
    if (o->where.kind == Kind::renamed && (o->has_text || o->streamed)) steps.push_back(Step{o.get(), "", -1, false});
  for (auto& s : steps) {
    const std::string& target = s.out->where.target;
    struct stat st {};
    if (::lstat(target.c_str(), &st) != 0 || !S_ISREG(st.st_mode)) continue;
    s.backup = target + ".old." + std::to_string(::getpid());
    s.backup_slot = register_cleanup(s.backup);
    ::unlink(s.backup.c_str());
    if (::link(target.c_str(), s.backup.c_str()) != 0) {  // no rollback for this one (a filesystem without links)
      unregister_cleanup(s.backup_slot);
      s.backup.clear();
    }
  }
  auto forget_backups = [&] {
    for (auto& s : steps) {
      if (!s.backup.empty()) ::unlink(s.backup.c_str());
      unregister_cleanup(s.backup_slot);
    }
  };
  for (auto& s : steps) {
    std::error_code ec;
    fs::rename(s.out->tmp, s.out->where.target, ec);
    if (ec) {
      for (auto& done : steps) {
        if (!done.renamed) continue;
        if (!done.backup.empty()) {
          if (::rename(done.backup.c_str(), done.out->where.target.c_str()) == 0) done.backup.clear();
        } else {
          ::unlink(done.out->where.target.c_str());  // it did not exist before
        }
      }
      forget_backups();
      throw InputError(label(s.out->option, s.out->path), "", "cannot move the output file into place: " + ec.message());
    }
    s.renamed = true;
    unregister_cleanup(s.out->tmp_slot);
    s.out->tmp_slot = -1;
    s.out->tmp.clear();
  }
  forget_backups();
}

void write_output(const std::string& path, const std::string& text, const std::vector<std::string>& inputs) {
  write_output("", path, text, inputs);
}

void write_output(const std::string& option, const std::string& path, const std::string& text,
                  const std::vector<std::string>& inputs) {
  Outputs out(inputs);
  out.declare(option, path);
  out.set(path, text);
  out.commit();
}

}  // namespace iclcert
