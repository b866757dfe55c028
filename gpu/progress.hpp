// A progress line on stderr once a run has taken a second: rewritten in place on
// a terminal, a new line every 10 s otherwise (CI logs stay short).
#pragma once

#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <string>

namespace iclcert::gpu {

class Progress {
 public:
  Progress(std::string what, long total, bool enabled)
      : what_(std::move(what)), total_(total), enabled_(enabled), tty_(isatty(2)) {}
  void update(long done) {
    if (!enabled_) return;
    const double t = elapsed();
    if (t < 1.0 || (t - last_ < (tty_ ? 0.25 : 10.0) && done < total_)) return;
    last_ = t;
    shown_ = true;
    const double rate = done / t;
    std::fprintf(stderr, "%s%s: %ld/%ld prompts (%.1f%%), %.0f prompts/s, %.0f s left%s", tty_ ? "\r" : "",
                 what_.c_str(), done, total_, 100.0 * done / total_, rate, rate > 0 ? (total_ - done) / rate : 0.0,
                 tty_ ? "   " : "\n");
    std::fflush(stderr);
  }
  void finish() {
    if (shown_ && tty_) std::fputc('\n', stderr);
  }
  double elapsed() const {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
  }

 private:
  std::string what_;
  long total_;
  bool enabled_, tty_, shown_ = false;
  double last_ = 0;
  std::chrono::steady_clock::time_point start_ = std::chrono::steady_clock::now();
};

}  // namespace iclcert::gpu
