#include "io/output_file.hpp"

#include "io/input_error.hpp"

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <iostream>
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

Kind kind_of(const std::string& path) {
  if (is_standard_output(path)) return Kind::standard_output;
  std::error_code ec;
  const fs::file_status s = fs::status(path, ec);
  if (under_system_tree(path) || (fs::exists(s) && !fs::is_regular_file(s))) return Kind::in_place;
  return Kind::renamed;
}

std::string label(const std::string& option, const std::string& path) {
  return option.empty() ? path : option + " " + path;
}

}  // namespace

namespace {

// `name`: how errors name the output ("--json out.json").
void check_path(const std::string& name, const std::string& path, const std::vector<std::string>& inputs) {
  if (is_standard_output(path)) {
    claim_standard_output();
    return;
  }
  std::error_code ec;
  if (fs::is_directory(path, ec)) throw InputError(name, "", "is a directory: expected a file to write");
  if (kind_of(path) == Kind::renamed) {
    fs::path dir = fs::path(path).parent_path();
    if (dir.empty()) dir = ".";
    if (!fs::is_directory(dir, ec))
      throw InputError(name, "", "cannot write the output file: its directory " + dir.string() + " does not exist");
  }
  for (const auto& in : inputs) {
    if (in.empty() || in == "-") continue;
    if (in == path || (fs::exists(path, ec) && fs::equivalent(path, in, ec)))
      throw InputError(name, "", "is also an input of this command (" + in +
                                     "): refusing to overwrite an input; write the output elsewhere");
  }
}

}  // namespace

void check_output_path(const std::string& path, const std::vector<std::string>& inputs) {
  if (!path.empty()) check_path(path, path, inputs);
}

struct Outputs::Output {
  std::string option, path, target, tmp;  // target: where the rename goes (a link's target)
  Kind kind = Kind::renamed;
  bool has_text = false, streamed = false;
  std::string text;
  std::ofstream file;
};

Outputs::Outputs(std::vector<std::string> inputs) : inputs_(std::move(inputs)) {}

Outputs::~Outputs() {
  if (committed_) return;
  for (auto& o : outputs_)
    if (o->kind == Kind::renamed && !o->tmp.empty()) {
      o->file.close();
      std::remove(o->tmp.c_str());
    }
}

void Outputs::add_input(const std::string& path) {
  inputs_.push_back(path);
  for (const auto& o : outputs_) check_path(label(o->option, o->path), o->path, {path});
}

void Outputs::declare(const std::string& option, const std::string& path) {
  if (path.empty()) return;
  check_path(label(option, path), path, inputs_);
  for (const auto& o : outputs_)
    if (o->path == path && !is_standard_output(path))
      throw InputError(label(option, path), "", "is also the output of " + o->option + ": give each output its own file");
  auto out = std::make_unique<Output>();
  out->option = option;
  out->path = path;
  out->kind = kind_of(path);
  if (out->kind == Kind::renamed) {
    std::error_code ec;
    out->target = fs::is_symlink(path, ec) ? fs::weakly_canonical(path, ec).string() : path;
    if (ec || out->target.empty()) out->target = path;
    out->tmp = out->target + ".tmp." + std::to_string(::getpid());
  }
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
  if (o.kind == Kind::standard_output) {
    point_standard_output(true);  // streamed data: the command prints no report meanwhile
    return std::cout;
  }
  if (!o.file.is_open()) {
    const std::string& where = o.kind == Kind::renamed ? o.tmp : o.path;
    o.file.open(where, std::ios::binary | std::ios::trunc);
    if (!o.file) throw InputError(label(o.option, o.path), "", std::string("cannot write the output file: ") + std::strerror(errno));
  }
  return o.file;
}

void Outputs::commit() {
  auto fail = [&](const Output& o, const std::string& what) {
    throw InputError(label(o.option, o.path), "", what);
  };
  // Everything is written before anything is renamed into place.
  for (auto& o : outputs_) {
    if (o->kind == Kind::standard_output) continue;
    if (o->streamed) {
      o->file.flush();
      if (!o->file) fail(*o, "writing the output file failed (disk full?)");
      o->file.close();
      continue;
    }
    if (!o->has_text || o->kind != Kind::renamed) continue;
    std::ofstream out(o->tmp, std::ios::binary | std::ios::trunc);
    if (!out) fail(*o, std::string("cannot write the output file: ") + std::strerror(errno));
    out << o->text;
    out.flush();
    if (!out) fail(*o, "writing the output file failed (disk full?)");
  }
  for (auto& o : outputs_) {
    if (o->kind == Kind::renamed && (o->has_text || o->streamed)) {
      std::error_code ec;
      fs::rename(o->tmp, o->target, ec);
      if (ec) fail(*o, "cannot move the output file into place: " + ec.message());
      o->tmp.clear();
    } else if (o->kind == Kind::in_place && o->has_text) {
      std::ofstream out(o->path, std::ios::binary);
      if (!out) fail(*o, std::string("cannot write to it: ") + std::strerror(errno));
      out << o->text;
      out.flush();
      if (!out) fail(*o, std::string("writing failed: ") + std::strerror(errno));
    } else if (o->kind == Kind::standard_output) {
      point_standard_output(true);
      if (o->has_text && !o->streamed) std::cout << o->text;
      std::cout.flush();
      const bool written = static_cast<bool>(std::cout);
      point_standard_output(false);
      if (!written) fail(*o, "writing to standard output failed");
    }
  }
  committed_ = true;
}

void write_output(const std::string& path, const std::string& text, const std::vector<std::string>& inputs) {
  Outputs out(inputs);
  out.declare("", path);
  out.set(path, text);
  out.commit();
}

}  // namespace iclcert
