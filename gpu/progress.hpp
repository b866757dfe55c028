// The progress line of every long command (batch, compare, sweep, check C1 and R1;
// docs/cli.md, "Progress"), on standard error:
// - on a terminal, a bar redrawn in place once a run has taken a second;
// - piped or redirected, nothing, unless --progress asks for the line (then it is
//   drawn as on a terminal, from the first update); --no-progress: never;
// - the rate and the time left appear only once a chunk after the first is done:
//   the first chunk carries the start-up (and validation) and alone would promise
//   a run of days ("0 prompts/s, 93720 s left");
// - one summary line at the end, where the line was drawn.
#pragma once

#include "api/control.hpp"

#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <string>

namespace iclcert::gpu {

// Whether a run draws its progress line: never (--no-progress), when standard error
// is a terminal (the default), or always (--progress). A bool reads as never or
// the default, as the configurations' `progress = false` means.
struct ProgressMode {
  enum Kind { never, on_terminal, always };
  Kind kind = on_terminal;
  ProgressMode(bool on = true) : kind(on ? on_terminal : never) {}  // NOLINT(google-explicit-constructor)
  ProgressMode(Kind k) : kind(k) {}                                 // NOLINT(google-explicit-constructor)
  // --progress and --no-progress (which wins: it is the one that silences).
  static ProgressMode of_flags(bool progress, bool no_progress) {
    return no_progress ? never : progress ? always : on_terminal;
  }
  bool enabled() const { return kind != never; }
};

class Progress {
 public:
  Progress(std::string what, long total, ProgressMode mode, std::string unit = "prompts")
      : what_(std::move(what)),
        unit_(std::move(unit)),
        total_(total),
        draw_(mode.kind == ProgressMode::always || (mode.kind == ProgressMode::on_terminal && isatty(2))),
        at_once_(mode.kind == ProgressMode::always) {}

  // R1's budget is a ceiling (a paving may finish before it): its time left reads "at most".
  void estimate_is_upper_bound() { at_most_ = true; }

  // `done` of the total so far; `detail` is shown after the counts.
  // A library call's receiver (api/control.hpp) gets every update, and a cancelled
  // call stops here (api::Cancelled): every long loop reports through this class.
  void update(long done, const std::string& detail = "") {
    if (api::current_control()) {
      done_ = done, detail_ = detail;  // for finish()'s report, drawn or not
      api::report({what_, unit_, detail, done, total_, false});
    }
    if (!draw_) return;
    const double t = elapsed();
    if (done > first_done_ && first_t_ < 0) first_t_ = t, first_done_ = done;  // the first chunk is in
    done_ = done, detail_ = detail;
    if (!at_once_ && t < 1.0) return;  // on a terminal a short run draws nothing
    if (shown_ && t - last_ < 0.25 && done < total_) return;
    last_ = t;
    shown_ = true;
    std::string line = what_;
    line.append(" ").append(bar(done)).append(" ").append(counts(done));
    char buf[160];
    std::snprintf(buf, sizeof buf, " (%.1f%%)", total_ > 0 ? 100.0 * done / total_ : 100.0);
    line += buf;
    const double rate = t > first_t_ && first_t_ >= 0 ? (done - first_done_) / (t - first_t_) : 0;
    if (rate > 0 && done < total_) {
      std::snprintf(buf, sizeof buf, ", %.3g %s/s, %s%.0f s left", rate, unit_.c_str(), at_most_ ? "at most " : "",
                    (total_ - done) / rate);
      line += buf;
    }
    if (!detail.empty()) line.append(", ").append(detail);
    redraw(line, false);
  }

  // The summary line, where the progress line was drawn (always under --progress).
  void finish() {
    if (api::current_control() && !reported_finish_) {
      reported_finish_ = true;
      api::report({what_, unit_, detail_, done_, total_, true});
    }
    if (!draw_ || finished_ || (!shown_ && !at_once_)) return;
    finished_ = true;
    const double t = elapsed();
    char buf[160];
    std::snprintf(buf, sizeof buf, " in %.1f s (%.3g %s/s)", t, t > 0 ? done_ / t : 0.0, unit_.c_str());
    std::string line = what_;
    line.append(": ").append(counts(done_)).append(buf);
    if (!detail_.empty()) line.append(", ").append(detail_);
    redraw(line, true);
  }

  double elapsed() const {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
  }

 private:
  // Built with append: g++ 12 warns falsely (-Wrestrict) on `"[" + std::string` chains.
  std::string bar(long done) const {
    constexpr long kWidth = 20;
    const long filled = total_ > 0 ? std::clamp(done * kWidth / total_, 0L, kWidth) : kWidth;
    std::string b = "[";
    b.append(static_cast<std::size_t>(filled), '#').append(static_cast<std::size_t>(kWidth - filled), '-');
    return b.append("]");
  }
  std::string counts(long done) const {
    std::string c = std::to_string(done);
    return c.append("/").append(std::to_string(total_)).append(" ").append(unit_);
  }
  // Over the previous line, padded with spaces (no terminal escapes: the line may
  // go to a file under --progress).
  void redraw(const std::string& line, bool last) {
    const std::size_t pad = width_ > line.size() ? width_ - line.size() : 0;
    width_ = line.size();
    std::fprintf(stderr, "\r%s%s%s", line.c_str(), std::string(pad, ' ').c_str(), last ? "\n" : "");
    std::fflush(stderr);
  }

  std::string what_, unit_, detail_;
  long total_, done_ = 0, first_done_ = 0;
  bool reported_finish_ = false;
  bool draw_, at_once_, at_most_ = false, shown_ = false, finished_ = false;
  double last_ = 0, first_t_ = -1;
  std::size_t width_ = 0;
  std::chrono::steady_clock::time_point start_ = std::chrono::steady_clock::now();
};

}  // namespace iclcert::gpu
