// What every library call (api/) takes beside its request: where its progress
// goes and how the caller stops it. The command line passes none (it prints its
// own progress line and stops on signals, io/cleanup.hpp); the Python package
// passes both, so that Ctrl-C stops the work itself, not only the wait for it.
//
// Layering: this header is the one piece of api/ that the layers below it
// (gpu/progress.hpp, claims/paving.cpp, the command bodies) include. It is header
// only and knows nothing of them: they report to whatever control the running call
// installed on its thread (ControlScope), and a call without one costs a null test.
#pragma once

#include <atomic>
#include <functional>
#include <memory>
#include <stdexcept>
#include <string>

namespace iclcert::api {

// Thrown by a call whose token was cancelled, at the next checkpoint. Output files
// are then not written (outputs are committed whole or not at all, io/output_file.hpp).
class Cancelled : public std::runtime_error {
 public:
  Cancelled() : std::runtime_error("cancelled") {}
};

// A flag shared by the caller and the call. cancel() may come from any thread;
// the call reads it between units of work (chunks, prompts, boxes, cells, cases),
// so a cancelled call stops within one unit.
class CancelToken {
 public:
  CancelToken() : flag_(std::make_shared<std::atomic<bool>>(false)) {}
  void cancel() const noexcept { flag_->store(true, std::memory_order_relaxed); }
  bool cancelled() const noexcept { return flag_->load(std::memory_order_relaxed); }
  void throw_if_cancelled() const {
    if (cancelled()) throw Cancelled();
  }

 private:
  std::shared_ptr<std::atomic<bool>> flag_;
};

// One progress report: `done` of `total` units ("prompts", "boxes", "cells",
// "cases") of the stage `what` ("iclcert batch", "iclcert check C1"); `detail` is
// the line's tail (R1: the volume proved, refuted and undecided so far).
struct ProgressEvent {
  std::string what, unit, detail;
  long done = 0, total = 0;
  bool finished = false;  // the last report of the stage
};
using ProgressCallback = std::function<void(const ProgressEvent&)>;

struct Control {
  ProgressCallback progress;  // called on the calling thread, at every update (the receiver throttles)
  CancelToken cancel;
};

namespace detail {
inline thread_local const Control* current = nullptr;
}

// The control of the call running on this thread, or nullptr (the command line).
inline const Control* current_control() { return detail::current; }

// Installs `c` as this thread's control for the scope of one call (calls nest: the
// previous one comes back at the end).
class ControlScope {
 public:
  explicit ControlScope(const Control* c) : previous_(detail::current) { detail::current = c; }
  ~ControlScope() { detail::current = previous_; }
  ControlScope(const ControlScope&) = delete;
  ControlScope& operator=(const ControlScope&) = delete;

 private:
  const Control* previous_;
};

// A point where the running call may stop: throws Cancelled when its token is set.
inline void checkpoint() {
  if (const Control* c = detail::current) c->cancel.throw_if_cancelled();
}

// Reports progress to the running call's receiver, if any (after a checkpoint).
inline void report(const ProgressEvent& e) {
  if (const Control* c = detail::current) {
    c->cancel.throw_if_cancelled();
    if (c->progress) c->progress(e);
  }
}

}  // namespace iclcert::api
