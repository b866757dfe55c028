// How iclcert._core runs a long library call: the work on a worker thread under an
// api::Control, the calling Python thread waiting with the GIL released in short
// slices. Between slices it takes the GIL back, forwards the latest progress event
// to the Python receiver and runs PyErr_CheckSignals(): on Ctrl-C it cancels the
// token, joins the worker (which stops at its next checkpoint, within one unit of
// work) and raises KeyboardInterrupt. So the work stops with the wait, and the next
// call starts at once.
//
// The worker never calls Python: it only stores the latest event under a mutex.
// Its exception (InputError, std::invalid_argument, api::Cancelled, ...) is
// rethrown on the calling thread, where the module's translators map it.
#pragma once

#include "api/control.hpp"

#include <pybind11/pybind11.h>

#include <chrono>
#include <condition_variable>
#include <exception>
#include <mutex>
#include <optional>
#include <thread>
#include <type_traits>
#include <utility>

namespace iclcert::python {

namespace py = pybind11;

// One call at a time per process: the library keeps process-wide state during a
// call (the working precision, C1's progress line), and a cancelled call is joined
// before its caller returns, so this lock never waits for abandoned work.
inline std::mutex& call_lock() {
  static std::mutex m;
  return m;
}

struct CallState {
  std::mutex m;
  std::condition_variable cv;
  std::optional<api::ProgressEvent> latest;  // set by the worker, taken by the caller
  bool done = false;
  std::exception_ptr error;
};

// Hands `e` to progress(what, unit, detail, done, total, finished) (a Python callable
// or None), with the GIL held.
inline void forward(const py::object& progress, const api::ProgressEvent& e) {
  if (!progress.is_none()) progress(e.what, e.unit, e.detail, e.done, e.total, e.finished);
}

// fn(control) on a worker thread, under that control (also installed as the
// thread's, api::ControlScope); its result. Called with the GIL held. fn must touch
// no Python object (copy what it needs before, convert its result after).
template <class F>
auto run_call(F&& fn, const py::object& progress) -> std::invoke_result_t<F&, const api::Control&> {
  using R = std::invoke_result_t<F&, const api::Control&>;
  auto state = std::make_shared<CallState>();
  api::Control control;
  control.progress = [state](const api::ProgressEvent& e) {
    std::lock_guard<std::mutex> lock(state->m);
    state->latest = e;
  };
  std::optional<std::conditional_t<std::is_void_v<R>, bool, R>> result;
  std::thread worker([&, state] {
    try {
      std::lock_guard<std::mutex> one_at_a_time(call_lock());
      api::ControlScope scope(&control);
      if constexpr (std::is_void_v<R>) {
        fn(control);
        result.emplace(true);
      } else {
        result.emplace(fn(control));
      }
    } catch (...) {
      state->error = std::current_exception();
    }
    std::lock_guard<std::mutex> lock(state->m);
    state->done = true;
    state->cv.notify_all();
  });
  auto stop = [&] {  // the worker stops at its next checkpoint
    control.cancel.cancel();
    py::gil_scoped_release release;
    worker.join();
  };
  for (;;) {
    bool done;
    std::optional<api::ProgressEvent> event;
    {
      py::gil_scoped_release release;
      std::unique_lock<std::mutex> lock(state->m);
      state->cv.wait_for(lock, std::chrono::milliseconds(50), [&] { return state->done; });
      done = state->done;
      event.swap(state->latest);
    }
    try {
      if (event) forward(progress, *event);
    } catch (...) {  // the receiver raised: the work stops too
      stop();
      throw;
    }
    if (done) break;
    if (PyErr_CheckSignals() != 0) {  // KeyboardInterrupt (or the handler's exception) is set
      stop();
      throw py::error_already_set();
    }
  }
  {
    py::gil_scoped_release release;
    worker.join();
  }
  if (state->error) std::rethrow_exception(state->error);
  if constexpr (!std::is_void_v<R>) return std::move(*result);
}

}  // namespace iclcert::python
