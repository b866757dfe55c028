#include "properties/runner.hpp"

#include <chrono>
#include <cstdlib>
#include <exception>
#include <iostream>

namespace iclcert::properties {
namespace {

class CountingListener : public rc::detail::TestListener {
 public:
  void onTestCaseFinished(const rc::detail::CaseDescription& d) override {
    if (d.result.type == rc::detail::CaseResult::Type::Discard) ++discarded;
  }
  void onShrinkTried(const rc::detail::CaseDescription&, bool accepted) override {
    if (accepted) ++shrinks;
  }
  void onTestFinished(const rc::detail::TestMetadata&, const rc::detail::TestResult&) override {}
  int discarded = 0, shrinks = 0;
};

// RapidCheck loads its global configuration (RC_PARAMS) on first use and prints
// its own random seed, which is not the seed of our runs (those pass explicit
// TestParams): load it once with std::cerr silenced.
void load_rapidcheck_configuration_quietly() {
  static const bool loaded = [] {
    std::streambuf* saved = std::cerr.rdbuf(nullptr);
    rc::detail::configuration();
    std::cerr.rdbuf(saved);
    return true;
  }();
  (void)loaded;
}

}  // namespace

FuzzOutcome run_cases(const std::string& name, const rc::Gen<FuzzCase>& gen, const CaseCheck& check,
                      const FuzzParams& params) {
  load_rapidcheck_configuration_quietly();
  std::optional<FuzzCase> last_failure;
  std::string last_detail;
  auto property = [&] {
    const FuzzCase c = *gen;
    CaseVerdict v;
    try {
      v = check(c);
    } catch (const std::exception& e) {
      v = CaseVerdict::failed(std::string("exception: ") + e.what());
    }
    if (v.kind == CaseVerdict::Kind::discarded) RC_DISCARD(v.detail);
    if (v.kind == CaseVerdict::Kind::failed) {
      last_failure = c;
      last_detail = v.detail;
      RC_FAIL(v.detail);
    }
  };
  rc::detail::TestParams tp;
  tp.seed = params.seed;
  tp.maxSuccess = params.cases;
  tp.maxSize = 100;
  tp.maxDiscardRatio = 10;
  tp.disableShrinking = !params.shrink;
  rc::detail::TestMetadata meta;
  meta.id = meta.description = name;
  CountingListener listener;
  const auto start = std::chrono::steady_clock::now();
  const rc::detail::TestResult result =
      rc::detail::checkProperty(rc::detail::toProperty(property), meta, tp, listener);
  FuzzOutcome out;
  out.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  out.discarded = listener.discarded;
  out.shrink_steps = listener.shrinks;
  rc::detail::SuccessResult success;
  rc::detail::FailureResult failure;
  rc::detail::GaveUpResult gave_up;
  rc::detail::Error error;
  if (result.match(success)) {
    out.passed = success.numSuccess;
  } else if (result.match(failure)) {
    out.held = false;
    out.passed = failure.numSuccess;
    out.counterexample = last_failure;
    out.detail = last_failure ? last_detail : failure.description;
  } else if (result.match(gave_up)) {
    out.gave_up = true;
    out.passed = gave_up.numSuccess;
    out.detail = gave_up.description;
  } else if (result.match(error)) {
    out.held = false;
    out.detail = "RapidCheck error: " + error.description;
  }
  return out;
}

int scaled_cases(int base) {
  double scale = 1;
  if (const char* s = std::getenv("ICLCERT_TEST_SCALE")) {
    char* end = nullptr;
    const double v = std::strtod(s, &end);
    if (end != s && v > 0) scale = v;
  }
  const double n = base * scale;
  return n < 1 ? 1 : n > 1e8 ? 100000000 : static_cast<int>(n);
}

}  // namespace iclcert::properties
