// gesso-cli as a child process for the CLI tests; see cli_process.h.
#include "cli_process.h"

#include "golden.h"

namespace gesso::test {

CliRun finishCli(QProcess& process) {
  process.waitForFinished(300000);
  return {process.exitStatus() == QProcess::NormalExit ? process.exitCode() : -1,
          QString::fromLocal8Bit(process.readAllStandardOutput()), QString::fromLocal8Bit(process.readAllStandardError())};
}

CliRun runCli(const QStringList& arguments, const QProcessEnvironment& environment) {
  QProcess process;
  process.setProcessEnvironment(environment);
  process.start(cliPath(), arguments);
  return finishCli(process);
}

}  // namespace gesso::test
