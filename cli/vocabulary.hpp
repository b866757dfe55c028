// One name and one meaning per option across the commands (docs/cli.md): the old
// spellings, accepted for one release with a note; the progress flags; --validate.
#pragma once

#include "api/distribute.hpp"
#include "gpu/progress.hpp"

#include <CLI/CLI.hpp>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <set>
#include <stdexcept>
#include <string>

namespace iclcert::cli {

// One line on standard error, once per new spelling (-d, -C and -N make one line;
// rank 0 alone under mpiexec), when standard error is a terminal: a person is told,
// while a script keeps every byte it read before, standard error included (one that
// reads "only the error line", or parses `2>&1`, goes on working for the release).
inline void deprecation_note(const std::string& command, const std::string& old_name, const std::string& use) {
  static std::set<std::string> said;
  if (!isatty(2) || !said.insert(command + " " + use).second || !is_root()) return;
  std::fprintf(stderr, "iclcert: note: %s %s is an old spelling, accepted until the next release: write %s (docs/cli.md)\n",
               command.c_str(), old_name.c_str(), use.c_str());
}

// A bad value of an old spelling. CLI11 names a hidden option "" in its own errors
// (": Value 0 not in range"), so the old spellings report theirs under their name.
struct OldSpellingError : CLI::ParseError {
  explicit OldSpellingError(std::string msg)
      : CLI::ParseError("OldSpellingError", std::move(msg), CLI::ExitCodes::ValidationError) {}
};

// `old_name`, the old spelling of `canonical` (`use`: what to write instead, by
// default the canonical name), for one release: hidden from --help, it sets `into`
// after `check` (the canonical option's range, say) and its use prints the note.
// Given with the canonical option, it is refused (one of the two would be dropped).
template <class T>
CLI::Option* add_old_spelling(CLI::App& cmd, const std::string& old_name, T& into, CLI::Option* canonical,
                              std::string use = "", CLI::Validator check = {}) {
  if (use.empty()) use = canonical->get_name();
  CLI::Option* old = cmd.add_option(old_name, into, "old spelling of " + use)->group("");
  // Validators run once the whole command line is read: both counts are known.
  old->check(CLI::Validator(
      [command = cmd.get_name(), old_name, use, canonical, check](std::string& text) -> std::string {
        if (canonical->count() > 0) throw OldSpellingError(old_name + ": give " + use + " alone (" + old_name +
                                                           " is its old spelling)");
        std::string value = text;
        if (const std::string why = check(value); !why.empty()) throw OldSpellingError(old_name + ": " + why);
        deprecation_note(command, old_name, use);
        return "";
      },
      "", ""));
  return old;
}

// --progress and --no-progress (gpu/progress.hpp): by default a bar when standard
// error is a terminal and nothing otherwise.
inline void add_progress_flags(CLI::App& cmd, bool& progress, bool& no_progress) {
  auto* on = cmd.add_flag("--progress", progress, "Draw the progress line on stderr even when it is not a terminal");
  auto* off = cmd.add_flag("--no-progress", no_progress,
                           "No progress line on stderr (default: a bar on a terminal, nothing when piped)");
  on->excludes(off);
}

// --validate K: the first K prompts (or "all") run again in certified Arb balls;
// K beyond the prompts is all of them.
inline long validate_count(const std::string& text, long total) {
  if (text == "all") return total;
  try {
    std::size_t used = 0;
    const long k = std::stol(text, &used);
    if (used == text.size() && k >= 0) return std::min(k, total);
  } catch (const std::exception&) {
  }
  throw std::invalid_argument("--validate " + text + ": expected a count >= 0 or \"all\"");
}

}  // namespace iclcert::cli
