// iclcert: checks the claims of the layerwise in-context classification recursion.
// Exit status: 0 success / proved, 1 refuted, 3 undecided, 2 bad input or usage.
#include "cli/batch_command.hpp"
#include "cli/check_command.hpp"
#include "cli/compare_command.hpp"
#include "api/distribute.hpp"
#include "cli/extract_command.hpp"
#include "cli/run_command.hpp"
#include "cli/sample_command.hpp"
#include "cli/sweep_command.hpp"
#include "gpu/batch_backend.hpp"
#ifdef ICLCERT_HAVE_PROPERTIES
#include "cli/fuzz_command.hpp"
#endif
#ifdef ICLCERT_HAVE_Z3
#include "cli/prove_command.hpp"
#endif
#include "io/cleanup.hpp"
#include "io/input_error.hpp"
#include "numerics/rational.hpp"

#include <CLI/CLI.hpp>

#include <cstdio>
#include <map>
#include <new>

namespace {

// Under mpiexec every rank parses the same arguments and reads the same inputs, so
// bad input fails on every rank alike; rank 0 alone says why.
void complain(const char* format, const char* what) {
  if (iclcert::cli::is_root()) std::fprintf(stderr, format, what);
}

int run(int argc, char** argv) {
  CLI::App app{
      "iclcert: exact, enclosed and certified runs of the layerwise in-context classification recursion "
      "(arXiv 2604.11613)"};
  app.require_subcommand(0, 1);
  app.set_version_flag("--version", "iclcert " ICLCERT_VERSION);
  std::map<std::string, std::function<int()>> actions;
  actions["run"] = iclcert::cli::register_run(app);
  actions["sample"] = iclcert::cli::register_sample(app);
  actions["check"] = iclcert::cli::register_check(app);
  actions["batch"] = iclcert::cli::register_batch(app);
  actions["extract"] = iclcert::cli::register_extract(app);
  actions["compare"] = iclcert::cli::register_compare(app);
  actions["sweep"] = iclcert::cli::register_sweep(app);
#ifdef ICLCERT_HAVE_PROPERTIES
  actions["fuzz"] = iclcert::cli::register_fuzz(app);
#endif
#ifdef ICLCERT_HAVE_Z3
  actions["prove"] = iclcert::cli::register_prove(app);
#endif

  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForVersion& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    complain("iclcert: %s (see iclcert --help)\n", e.what());
    return 2;
  }
  auto chosen = app.get_subcommands();
  // With no command, `iclcert` alone runs the default job, as `iclcert run` does.
  const std::string name = chosen.empty() ? "run" : chosen.front()->get_name();
  try {
    return actions.at(name)();
  } catch (const iclcert::InputError& e) {
    complain("iclcert: %s\n", e.what());
    return 2;
  } catch (const std::invalid_argument& e) {
    complain("iclcert: %s\n", e.what());
    return 2;
  } catch (const std::bad_alloc&) {
    complain("iclcert: %s\n", "out of memory: the input or the work it asks for needs more memory than this process "
                               "may have (see the limits of docs/formats.md)");
    return 2;
  } catch (const std::exception& e) {
    complain("iclcert: internal error: %s\n", e.what());
    return 4;
  }
}

}  // namespace

int main(int argc, char** argv) {
  // GMP and MPFR out of memory: std::bad_alloc, reported below, not an abort.
  iclcert::install_gmp_allocation();
  // MPI_Init when started by mpiexec (ICLCERT_HAVE_MPI builds); otherwise nothing.
  iclcert::cli::Distribution distribution(argc, argv);
  // SIGINT, SIGTERM: temporary files and staging folders removed, exit 130 or 143
  // (after MPI_Init, whose library may install handlers of its own).
  iclcert::install_signal_cleanup();
  // With CUDA, each rank takes a GPU: device rank modulo the device count.
  iclcert::gpu::cuda_device_preference() = iclcert::cli::rank();
  const int status = run(argc, argv);
  std::fflush(stdout);
  return distribution.agree_on_status(status);
}
