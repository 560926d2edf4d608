import ArgumentParser
import ClawgateCLI

/// The executable is only an entry point; everything lives in ClawgateCLI.
@main
extension ClawgateCommand {}
