import ArgumentParser
import PFSCore

// Files: `put file` / `put-file`, `get file` / `get-file`, `list file` / `list-file`, `glob file` / `glob-file`,
// `diff file` / `diff-file`, `inspect file` / `inspect-file`, `delete file` / `delete-file`, `copy file` / `copy-file`.
//
// The one semantic difference between spellings is deliberate and follows Pachyderm: 2.x `put file` and
// `copy file` overwrite (`-a` appends), 1.x `put-file` and `copy-file` append (`-o` overwrites).

extension PFSCommand {
    struct PutFile: OperationCommand {
        static let configuration = CommandConfiguration(
            commandName: "file",
            abstract: "Put files into a branch (replacing them; -a appends).",
            discussion: """
                Sources: -f with a local file, a directory (with -r) or an http(s) URL, repeatable; -i with a \
                file listing sources one per line (- reads the list from stdin); stdin when neither is given. \
                When the destination path is omitted or ends with /, each source keeps its base name under it.

                All sources go in one request: into the branch's open commit if it has one, otherwise into a new \
                commit that is finished when the request completes. If any source fails (unreadable file, URL \
                that answers an error) nothing is committed.

                Examples:
                  pfs put file data@master:/sales.csv -f sales.csv
                  pfs put file data@master -f a.csv -f b.csv
                  pfs put file data@master:/raw/ -r -f ./dataset
                  pfs put file data@master:/log.txt -a -f today.log
                  pfs put file data@master:/remote.csv -f https://example.com/data.csv
                  cat notes.txt | pfs put file data@master:/notes.txt
                """)

        @Argument(help: ArgumentHelp("Where to put: repo@branch with an optional :/path.", valueName: "repo@branch[:/path]"))
        var target: String
        @Option(name: [.customShort("f"), .customLong("file")],
                help: ArgumentHelp("A local file or directory, an http(s) URL, or - for stdin (repeatable).", valueName: "source"))
        var files: [String] = []
        @Option(name: [.customShort("i"), .customLong("input-file")],
                help: ArgumentHelp("A file listing sources, one per line (- = stdin).", valueName: "file"))
        var inputFile: String?
        @Flag(name: [.customShort("r"), .customLong("recursive")], help: "Put directories recursively.") var recursive = false
        @Flag(name: [.customShort("a"), .customLong("append")], help: "Append to existing files instead of replacing them.")
        var append = false
        @Option(name: [.customShort("m"), .customLong("message")], help: "Description of the commit this put makes.")
        var message: String?
        @OptionGroup var output: OutputOptions
        @OptionGroup var connection: ConnectionOptions

        func outputFormat() throws -> OutputFormat { try output.format() }
        func operation() throws -> CLIOperation {
            let ref = try CommandArguments.commit(target)
            let dest = try CommandArguments.destination(CommandArguments.rawPath(target))
            return .putFiles(PutFileRequest(repo: ref.repo, ref: ref.refString, path: dest.path, pathIsDirectory: dest.isDirectory,
                                            sources: files, inputFile: inputFile, recursive: recursive, append: append,
                                            startCommit: false, description: message))
        }
    }

    struct GetFile: OperationCommand {
        static let configuration = CommandConfiguration(
            commandName: "file",
            abstract: "Print a file's content, or write it (-o) or a directory tree (-r -o DIR) locally.",
            discussion: """
                Examples:
                  pfs get file data@master:/sales.csv
                  pfs get file data@master^:/sales.csv -o old-sales.csv
                  pfs get file data@3f2a9c1e:/raw -r -o ./raw-copy
                """)

        @Argument(help: ArgumentHelp("The file, as repo@ref:/path.", valueName: "repo@ref:/path")) var target: String
        @Option(name: [.customShort("o"), .customLong("output")],
                help: ArgumentHelp("Write to this local file (with -r: directory) instead of stdout.", valueName: "path"))
        var outputPath: String?
        @Flag(name: [.customShort("r"), .customLong("recursive")], help: "Download a directory tree into -o DIR.")
        var recursive = false
        @OptionGroup var connection: ConnectionOptions

        func outputFormat() throws -> OutputFormat { .table }
        func operation() throws -> CLIOperation {
            let ref = try CommandArguments.commit(target)
            guard let path = ref.path else {
                throw PFSError.invalid("get file needs a path: repo@ref:/path (got \"\(Names.printable(target))\")")
            }
            return try getFileOperation(repo: ref.repo, ref: ref.refString, path: path, output: outputPath, recursive: recursive)
        }
    }

    struct ListFile: OperationCommand {
        static let configuration = CommandConfiguration(
            commandName: "file",
            abstract: "List the files in a directory of a commit.",
            discussion: """
                Prints NAME, TYPE and SIZE; directories end with /.

                Examples:
                  pfs list file data@master
                  pfs list file data@master:/raw
                  pfs list file data@master~2:/ --raw
                """)

        @Argument(help: ArgumentHelp("The directory, as repo@ref with an optional :/path.", valueName: "repo@ref[:/dir]"))
        var target: String
        @OptionGroup var output: OutputOptions
        @OptionGroup var connection: ConnectionOptions

        func outputFormat() throws -> OutputFormat { try output.format() }
        func operation() throws -> CLIOperation {
            let ref = try CommandArguments.commit(target)
            return .listFiles(repo: ref.repo, ref: ref.refString, path: ref.path ?? "/", recursive: false)
        }
    }

    struct GlobFile: OperationCommand {
        static let configuration = CommandConfiguration(
            commandName: "file",
            abstract: "List the files matching a glob pattern.",
            discussion: """
                Patterns: * and ? within a name, [ab] classes, ** across directories. Quote the argument so \
                the shell does not expand it.

                Examples:
                  pfs glob file 'data@master:/*.csv'
                  pfs glob file 'data@master:/**'
                """)

        @Argument(help: ArgumentHelp("The pattern, as repo@ref:/pattern.", valueName: "repo@ref:/pattern")) var target: String
        @OptionGroup var output: OutputOptions
        @OptionGroup var connection: ConnectionOptions

        func outputFormat() throws -> OutputFormat { try output.format() }
        func operation() throws -> CLIOperation {
            let ref = try CommandArguments.commit(target)
            guard let pattern = ref.path else {
                throw PFSError.invalid("glob file needs a pattern: 'repo@ref:/pattern' (got \"\(Names.printable(target))\")")
            }
            return .globFiles(repo: ref.repo, ref: ref.refString, pattern: pattern)
        }
    }

    struct DiffFile: OperationCommand {
        static let configuration = CommandConfiguration(
            commandName: "file",
            abstract: "Show the files that differ between two commits.",
            discussion: """
                Compares the new commit with the old one (default: its parent), optionally under one path. \
                Prints CHANGE (added, deleted, modified), PATH, TYPE, OLD SIZE and NEW SIZE.

                Examples:
                  pfs diff file data@master
                  pfs diff file data@master:/raw data@master~3
                """)

        @Argument(help: ArgumentHelp("The new commit, as repo@ref with an optional :/path.", valueName: "repo@new[:/path]"))
        var newTarget: String
        @Argument(help: ArgumentHelp("The old commit (default: the new one's parent).", valueName: "repo@old[:/path]"))
        var oldTarget: String?
        @OptionGroup var output: OutputOptions
        @OptionGroup var connection: ConnectionOptions

        func outputFormat() throws -> OutputFormat { try output.format() }
        func operation() throws -> CLIOperation {
            let new = try CommandArguments.commit(newTarget)
            let old = try oldTarget.map(CommandArguments.commit)
            return try diffFileOperation(newRepo: new.repo, newRef: new.refString, newPath: new.path,
                                         oldRepo: old?.repo, oldRef: old?.refString, oldPath: old?.path)
        }
    }

    struct InspectFile: OperationCommand {
        static let configuration = CommandConfiguration(
            commandName: "file",
            abstract: "Show a file's details.",
            discussion: """
                Examples:
                  pfs inspect file data@master:/sales.csv
                  pfs inspect file data@master^:/raw --raw
                """)

        @Argument(help: ArgumentHelp("The file, as repo@ref:/path.", valueName: "repo@ref:/path")) var target: String
        @OptionGroup var output: OutputOptions
        @OptionGroup var connection: ConnectionOptions

        func outputFormat() throws -> OutputFormat { try output.format() }
        func operation() throws -> CLIOperation {
            let ref = try CommandArguments.commit(target)
            return .inspectFile(repo: ref.repo, ref: ref.refString, path: ref.path ?? "/")
        }
    }

    struct DeleteFile: OperationCommand {
        static let configuration = CommandConfiguration(
            commandName: "file",
            abstract: "Delete files from a branch.",
            discussion: """
                A non-empty directory is only deleted with -r. Several paths of the same repo@branch may be \
                given; they are deleted in one commit.

                Examples:
                  pfs delete file data@master:/old.csv
                  pfs delete file data@master:/tmp -r
                """)

        @Argument(help: ArgumentHelp("The files, as repo@branch:/path.", valueName: "repo@branch:/path")) var targets: [String]
        @Flag(name: [.customShort("r"), .customLong("recursive")], help: "Delete directories with everything in them.")
        var recursive = false
        @OptionGroup var output: OutputOptions
        @OptionGroup var connection: ConnectionOptions

        func outputFormat() throws -> OutputFormat { try output.format() }
        func operation() throws -> CLIOperation {
            var repo: String?
            var refString: String?
            var paths: [String] = []
            for target in targets {
                let ref = try CommandArguments.commit(target)
                guard let path = ref.path else {
                    throw PFSError.invalid("delete file needs a path: repo@branch:/path (got \"\(Names.printable(target))\")")
                }
                if let repo, let refString, repo != ref.repo || refString != ref.refString {
                    throw PFSError.invalid("delete file deletes from one repo@branch at a time; \"\(Names.printable(target))\" names another")
                }
                repo = ref.repo
                refString = ref.refString
                paths.append(path)
            }
            guard let repo, let refString else {
                throw PFSError.invalid("name the file to delete: repo@branch:/path")
            }
            return .deleteFiles(repo: repo, ref: refString, paths: paths, recursive: recursive)
        }
    }

    struct CopyFile: OperationCommand {
        static let configuration = CommandConfiguration(
            commandName: "file",
            abstract: "Copy a file or directory between commits, by reference (replacing; -a appends).",
            discussion: """
                No data is copied: the destination refers to the same chunks.

                Examples:
                  pfs copy file data@master:/sales.csv backup@master:/2024/sales.csv
                  pfs copy file data@master~1:/raw data@master:/raw-previous
                """)

        @Argument(help: ArgumentHelp("The source, as repo@ref:/path.", valueName: "src-repo@ref:/path")) var source: String
        @Argument(help: ArgumentHelp("The destination, as repo@branch:/path.", valueName: "dst-repo@branch:/path"))
        var destination: String
        @Flag(name: [.customShort("a"), .customLong("append")], help: "Append to the destination file instead of replacing it.")
        var append = false
        @OptionGroup var output: OutputOptions
        @OptionGroup var connection: ConnectionOptions

        func outputFormat() throws -> OutputFormat { try output.format() }
        func operation() throws -> CLIOperation {
            let src = try CommandArguments.commit(source)
            let dst = try CommandArguments.commit(destination)
            guard let srcPath = src.path else {
                throw PFSError.invalid("copy file needs a source path: repo@ref:/path (got \"\(Names.printable(source))\")")
            }
            let dstPath = dst.path ?? srcPath
            return .copyFile(CopyFileRequest(srcRepo: src.repo, srcRef: src.refString, srcPath: srcPath,
                                             dstRepo: dst.repo, dstRef: dst.refString, dstPath: dstPath, append: append))
        }
    }

    // MARK: 1.x spellings

    struct LegacyPutFile: OperationCommand {
        static let configuration = CommandConfiguration(
            commandName: "put-file",
            abstract: "Put files into a branch, APPENDING to existing files (1.x; -o overwrites).",
            discussion: """
                As in Pachyderm 1.x, put-file appends: putting set1.txt then set2.txt into the same file gives \
                their concatenation (the fruit-stand tutorial's cumulative results). -o replaces instead. -c \
                starts a commit, puts, and finishes it; without -c the put joins the branch's open commit or \
                makes one commit of its own. When the path is omitted or ends with /, each source keeps its \
                base name.

                Examples:
                  pachctl put-file data master sales -c -f set1.txt
                  pfs put-file data master /raw/ -r -f ./dataset
                  pfs put-file data master /sales.csv -o -f sales.csv
                  pfs put-file data master -f https://example.com/data.csv
                """)

        @Argument(help: "The repo.") var repo: String
        @Argument(help: "The branch (or an open commit's id).") var branch: String
        @Argument(help: "The destination path (default: each source's base name).") var path: String?
        @Option(name: [.customShort("f"), .customLong("file")],
                help: ArgumentHelp("A local file or directory, an http(s) URL, or - for stdin (repeatable).", valueName: "source"))
        var files: [String] = []
        @Option(name: [.customShort("i"), .customLong("input-file")],
                help: ArgumentHelp("A file listing sources, one per line (- = stdin).", valueName: "file"))
        var inputFile: String?
        @Flag(name: [.customShort("r"), .customLong("recursive")], help: "Put directories recursively.") var recursive = false
        @Flag(name: [.customShort("o"), .customLong("overwrite")], help: "Replace existing files instead of appending.")
        var overwrite = false
        @Flag(name: [.customShort("c"), .customLong("commit")], help: "Start a commit, put the files, finish the commit.")
        var commit = false
        @Option(name: [.customShort("m"), .customLong("message")], help: "Description of the commit this put makes.")
        var message: String?
        @OptionGroup var output: RawOutputOption
        @OptionGroup var connection: ConnectionOptions

        func outputFormat() throws -> OutputFormat { output.format() }
        func operation() throws -> CLIOperation {
            let target = try CommandArguments.legacy(repo: repo, ref: branch)
            if commit { try Names.validateBranch(target.ref) }
            let dest = try CommandArguments.destination(path)
            return .putFiles(PutFileRequest(repo: target.repo, ref: target.ref, path: dest.path, pathIsDirectory: dest.isDirectory,
                                            sources: files, inputFile: inputFile, recursive: recursive, append: !overwrite,
                                            startCommit: commit, description: message))
        }
    }

    struct LegacyGetFile: OperationCommand {
        static let configuration = CommandConfiguration(
            commandName: "get-file",
            abstract: "Print a file's content, or write it locally (1.x spelling of `get file`).",
            discussion: """
                Examples:
                  pachctl get-file data master sales
                  pfs get-file data 3f2a9c1e /raw -r -o ./raw-copy
                """)

        @Argument(help: "The repo.") var repo: String
        @Argument(help: "The commit: a branch, an id or prefix, or an ancestor such as master^.") var commit: String
        @Argument(help: "The path of the file.") var path: String
        @Option(name: [.customShort("o"), .customLong("output")],
                help: ArgumentHelp("Write to this local file (with -r: directory) instead of stdout.", valueName: "path"))
        var outputPath: String?
        @Flag(name: [.customShort("r"), .customLong("recursive")], help: "Download a directory tree into -o DIR.")
        var recursive = false
        @OptionGroup var connection: ConnectionOptions

        func outputFormat() throws -> OutputFormat { .table }
        func operation() throws -> CLIOperation {
            let c = try CommandArguments.legacy(repo: repo, ref: commit)
            return try getFileOperation(repo: c.repo, ref: c.ref, path: try CommandArguments.path(path),
                                        output: outputPath, recursive: recursive)
        }
    }

    struct LegacyListFile: OperationCommand {
        static let configuration = CommandConfiguration(
            commandName: "list-file",
            abstract: "List the files in a directory (1.x spelling of `list file`).",
            discussion: """
                Examples:
                  pachctl list-file data master
                  pfs list-file data master /raw
                """)

        @Argument(help: "The repo.") var repo: String
        @Argument(help: "The commit: a branch, an id or prefix, or an ancestor such as master^.") var commit: String
        @Argument(help: "The directory (default: /).") var path: String?
        @OptionGroup var output: OutputOptions
        @OptionGroup var connection: ConnectionOptions

        func outputFormat() throws -> OutputFormat { try output.format() }
        func operation() throws -> CLIOperation {
            let c = try CommandArguments.legacy(repo: repo, ref: commit)
            return .listFiles(repo: c.repo, ref: c.ref, path: try CommandArguments.path(path ?? "/"), recursive: false)
        }
    }

    struct LegacyGlobFile: OperationCommand {
        static let configuration = CommandConfiguration(
            commandName: "glob-file",
            abstract: "List the files matching a glob pattern (1.x spelling of `glob file`).",
            discussion: """
                Examples:
                  pachctl glob-file data master '/*.csv'
                """)

        @Argument(help: "The repo.") var repo: String
        @Argument(help: "The commit: a branch, an id or prefix, or an ancestor such as master^.") var commit: String
        @Argument(help: "The pattern.") var pattern: String
        @OptionGroup var output: OutputOptions
        @OptionGroup var connection: ConnectionOptions

        func outputFormat() throws -> OutputFormat { try output.format() }
        func operation() throws -> CLIOperation {
            let c = try CommandArguments.legacy(repo: repo, ref: commit)
            return .globFiles(repo: c.repo, ref: c.ref, pattern: try CommandArguments.path(pattern))
        }
    }

    struct LegacyDiffFile: OperationCommand {
        static let configuration = CommandConfiguration(
            commandName: "diff-file",
            abstract: "Show the files that differ between two commits (1.x spelling of `diff file`).",
            discussion: """
                Arguments: new-repo new-commit [new-path] [old-repo old-commit [old-path]]. The old commit \
                defaults to the new one's parent.

                Examples:
                  pachctl diff-file data master
                  pfs diff-file data master /raw data master~3
                """)

        @Argument(help: ArgumentHelp("new-repo new-commit [new-path] [old-repo old-commit [old-path]]", valueName: "args"))
        var args: [String]
        @OptionGroup var output: OutputOptions
        @OptionGroup var connection: ConnectionOptions

        func outputFormat() throws -> OutputFormat { try output.format() }
        func operation() throws -> CLIOperation {
            let a = args
            var newPath: String?
            var oldRepo: String?
            var oldCommit: String?
            var oldPath: String?
            switch a.count {
            case 2: break
            case 3: newPath = a[2]
            case 4: oldRepo = a[2]; oldCommit = a[3]
            case 5: newPath = a[2]; oldRepo = a[3]; oldCommit = a[4]
            case 6: newPath = a[2]; oldRepo = a[3]; oldCommit = a[4]; oldPath = a[5]
            default:
                throw PFSError.invalid("diff-file takes new-repo new-commit [new-path] [old-repo old-commit [old-path]]")
            }
            let new = try CommandArguments.legacy(repo: a[0], ref: a[1])
            let old = try oldRepo.map { try CommandArguments.legacy(repo: $0, ref: oldCommit!) }
            return try diffFileOperation(newRepo: new.repo, newRef: new.ref, newPath: try newPath.map(CommandArguments.path),
                                         oldRepo: old?.repo, oldRef: old?.ref, oldPath: try oldPath.map(CommandArguments.path))
        }
    }

    struct LegacyInspectFile: OperationCommand {
        static let configuration = CommandConfiguration(
            commandName: "inspect-file",
            abstract: "Show a file's details (1.x spelling of `inspect file`).",
            discussion: """
                Examples:
                  pachctl inspect-file data master sales
                """)

        @Argument(help: "The repo.") var repo: String
        @Argument(help: "The commit: a branch, an id or prefix, or an ancestor such as master^.") var commit: String
        @Argument(help: "The path of the file.") var path: String
        @OptionGroup var output: OutputOptions
        @OptionGroup var connection: ConnectionOptions

        func outputFormat() throws -> OutputFormat { try output.format() }
        func operation() throws -> CLIOperation {
            let c = try CommandArguments.legacy(repo: repo, ref: commit)
            return .inspectFile(repo: c.repo, ref: c.ref, path: try CommandArguments.path(path))
        }
    }

    struct LegacyDeleteFile: OperationCommand {
        static let configuration = CommandConfiguration(
            commandName: "delete-file",
            abstract: "Delete a file or directory (1.x spelling of `delete file`; directories go with their contents).",
            discussion: """
                As in Pachyderm 1.x, deleting a directory deletes everything in it.

                Examples:
                  pachctl delete-file data master sales
                """)

        @Argument(help: "The repo.") var repo: String
        @Argument(help: "The branch (or an open commit's id).") var branch: String
        @Argument(help: "The path to delete.") var path: String
        @OptionGroup var output: OutputOptions
        @OptionGroup var connection: ConnectionOptions

        func outputFormat() throws -> OutputFormat { try output.format() }
        func operation() throws -> CLIOperation {
            let c = try CommandArguments.legacy(repo: repo, ref: branch)
            return .deleteFiles(repo: c.repo, ref: c.ref, paths: [try CommandArguments.path(path)], recursive: true)
        }
    }

    struct LegacyCopyFile: OperationCommand {
        static let configuration = CommandConfiguration(
            commandName: "copy-file",
            abstract: "Copy a file by reference, APPENDING to the destination (1.x; -o overwrites).",
            discussion: """
                Arguments: src-repo src-commit src-path dst-repo dst-branch dst-path.

                Examples:
                  pachctl copy-file data master sales.csv backup master sales.csv
                  pfs copy-file data master /raw data master /raw-previous -o
                """)

        @Argument(help: "The source repo.") var srcRepo: String
        @Argument(help: "The source commit.") var srcCommit: String
        @Argument(help: "The source path.") var srcPath: String
        @Argument(help: "The destination repo.") var dstRepo: String
        @Argument(help: "The destination branch (or an open commit's id).") var dstBranch: String
        @Argument(help: "The destination path.") var dstPath: String
        @Flag(name: [.customShort("o"), .customLong("overwrite")], help: "Replace the destination instead of appending.")
        var overwrite = false
        @OptionGroup var output: RawOutputOption
        @OptionGroup var connection: ConnectionOptions

        func outputFormat() throws -> OutputFormat { output.format() }
        func operation() throws -> CLIOperation {
            let src = try CommandArguments.legacy(repo: srcRepo, ref: srcCommit)
            let dst = try CommandArguments.legacy(repo: dstRepo, ref: dstBranch)
            return .copyFile(CopyFileRequest(srcRepo: src.repo, srcRef: src.ref, srcPath: try CommandArguments.path(srcPath),
                                             dstRepo: dst.repo, dstRef: dst.ref, dstPath: try CommandArguments.path(dstPath),
                                             append: !overwrite))
        }
    }
}

func getFileOperation(repo: String, ref: String, path: String, output: String?, recursive: Bool) throws -> CLIOperation {
    if recursive && output == nil {
        throw PFSError.invalid("get file -r writes a directory tree; name the local directory with -o DIR")
    }
    if let output, output.isEmpty {
        throw PFSError.invalid("-o needs a local path")
    }
    return .getFile(GetFileRequest(repo: repo, ref: ref, path: path, output: output, recursive: recursive))
}

func diffFileOperation(newRepo: String, newRef: String, newPath: String?,
                       oldRepo: String?, oldRef: String?, oldPath: String?) throws -> CLIOperation {
    if let oldRepo, oldRepo != newRepo {
        throw PFSError.invalid("diff file compares two commits of one repo; \"\(oldRepo)\" is not \"\(newRepo)\"")
    }
    if let newPath, let oldPath, newPath != oldPath {
        throw PFSError.invalid("diff file compares the same path in both commits; \(newPath) and \(oldPath) differ")
    }
    return .diffFiles(repo: newRepo, ref: newRef, old: oldRef, path: newPath ?? oldPath)
}
