// A library call that names no file must leave the working folder as it is: the
// tests that check it run in their own temp folder.
#pragma once

#include "support/cli_runner.hpp"

#include <filesystem>

namespace iclcert::testing {

// A CliTest whose working folder, for the test's duration, is its own temp folder.
class InFolderTest : public CliTest {
 protected:
  void SetUp() override {
    CliTest::SetUp();
    previous_ = std::filesystem::current_path();
    std::filesystem::current_path(dir_);
  }
  void TearDown() override {
    std::filesystem::current_path(previous_);
    CliTest::TearDown();
  }

 private:
  std::filesystem::path previous_;
};

}  // namespace iclcert::testing
