// Runs gesso-cli as a separate process for the CLI tests and collects its exit code and output.
#pragma once

#include <QProcess>
#include <QProcessEnvironment>
#include <QString>
#include <QStringList>

namespace gesso::test {

struct CliRun {
  int exit_code = -1;  // -1 when the process crashed, was killed or did not end in time
  QString output;      // stdout
  QString errors;      // stderr
};

// Waits up to 5 minutes for an already started `process` to end (below CTest's limit, so a hang fails here, with its
// output) and collects what it wrote.
CliRun finishCli(QProcess& process);

// gesso-cli (cliPath()) with `arguments` in `environment`, waited for with finishCli.
CliRun runCli(const QStringList& arguments, const QProcessEnvironment& environment = QProcessEnvironment::systemEnvironment());

}  // namespace gesso::test
