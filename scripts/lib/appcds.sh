# shellcheck shell=bash disable=SC2154 # "jar" is set by the launcher that sources this file
# AppCDS archives for the launchers (scripts/tether-manager, scripts/tether-delegate): sourced, not
# run. Each function works on the global "jar", the launcher's jar under one spelling of its path.
#
# An archive holds the class metadata a run loaded, parsed and verified already, kept beside the
# jar as PREFIX-CRC.jsa: PREFIX names the JVM build and the jar's path (archive_prefix), CRC is the
# cksum of the archive's bytes, checked before every use (JDK 17 maps a damaged archive without
# checking and may crash on it). The JVM ignores an archive it cannot use (-Xshare:auto): only the
# speed-up is lost, never the command. An archive holds class metadata, not data the program read.

# The archives' common name for this JVM build and jar, printed; nothing if java is not found.
archive_prefix() {
  local java_bin release key
  # few processes: each costs a few milliseconds of an admin command's second
  hash java 2>/dev/null || return 0
  java_bin="$(readlink -f "${BASH_CMDS[java]}")"
  # the release file changes when the JDK is updated in place
  release="${java_bin%/*/*}/release"
  key="$({ echo "$java_bin $jar"; cat "$release" 2>/dev/null || true; } | cksum)"
  echo "${jar%.jar}-${key%% *}"
}

# cds_prefix PROGRAM: the archives' common name as TETHER_CDS asks, printed: archive_prefix's for
# 'auto' (the default), nothing for 'off'; another value is refused (exit status 2), naming PROGRAM.
cds_prefix() {
  case "${TETHER_CDS:-auto}" in
    auto) archive_prefix ;;
    off) ;;
    *)
      echo "$1: TETHER_CDS='${TETHER_CDS}' is not understood (expected 'auto', the default, or 'off')" >&2
      return 2
      ;;
  esac
}

# The archive to use, printed: one named PREFIX-CRC.jsa, owned by this user, not older than the
# jar, whose content still has that CRC. The JVM itself (17) checks only the archive's header, and
# crashes on a truncated or damaged one; cksum reads 25 MB in some 10 ms. The CRC proves nothing
# about who wrote the file: one that another user put beside the jar is not mapped, as the classes
# of a planted archive would run with this user's token.
usable_archive() {
  local candidate crc
  for candidate in "$1"-*.jsa; do
    if [ ! -f "$candidate" ] || [ ! -O "$candidate" ] || [ "$jar" -nt "$candidate" ]; then
      continue
    fi
    crc="$(cksum <"$candidate" 2>/dev/null)" || continue
    if [ "$candidate" = "$1-${crc%% *}.jsa" ]; then
      echo "$candidate"
      return 0
    fi
  done
}

# new_temporary PREFIX: a new temporary file beside the jar, printed (mktemp: mode 0600, never an
# existing name), named PREFIX.tmp.PID.XXXXXX with this launcher's pid, so that a later launcher
# can tell the leftover of one that was killed from a file still in use (remove_leftovers).
new_temporary() {
  mktemp "$1.tmp.$$.XXXXXX" 2>/dev/null
}

# remove_leftovers: removes the temporary files that launchers of this jar left when they were
# killed (SIGKILL runs no trap; a static archive's dump leaves about 30 MB): files beside the jar
# named by new_temporary for one of its prefixes (the admin commands', the server's, the
# delegate's), owned by this user, whose launcher no longer runs. A file whose launcher's pid now
# belongs to another user is removed too: it was this user's launcher's. A pid that is running
# again for this user keeps the file; the next launcher after it ends removes it. Pids are this
# machine's (this pid namespace's): a directory shared with other machines or containers may lose
# the temporary file of a launcher running there, whose archive is then not written that time. A
# file that cannot be removed (a read-only directory) is left, and the command runs as before.
remove_leftovers() {
  local file pid
  for file in "${jar%.jar}"-[0-9]*.tmp.*.* "${jar%.jar}"-serve-[0-9]*.tmp.*.*; do
    pid="${file##*.tmp.}"
    pid="${pid%%.*}"
    case "$pid" in
      '' | *[!0-9]*) continue ;;
    esac
    if [ "$pid" != "$$" ] && [ -f "$file" ] && [ -O "$file" ] && ! kill -0 "$pid" 2>/dev/null; then
      rm -f -- "$file" 2>/dev/null || true
    fi
  done
}

# Whether the command line asks for help or the version, which load too few classes to make an
# archive that speeds up the runs that follow.
asks_for_help_or_version() {
  local arg
  for arg in "$@"; do
    case "$arg" in
      -h|--help|-V|--version) return 0 ;;
    esac
  done
  return 1
}

# Whether this manager command line is worth an archive: not the bare command, help or version.
trains_archive() {
  [ "$#" -gt 0 ] && [ "$1" != "help" ] && ! asks_for_help_or_version "$@"
}

# keep_archive TMP PREFIX STATUS: after a run that succeeded (STATUS 0) and wrote the archive TMP,
# names it PREFIX-CRC.jsa and removes what it supersedes: PREFIX's other archives, and any archive
# of this jar older than the jar.
keep_archive() {
  local tmp="$1" prefix="$2" status="$3" crc old
  if [ "$status" -eq 0 ] && [ -s "$tmp" ] && crc="$(cksum <"$tmp")" && crc="${crc%% *}" \
      && chmod 0644 "$tmp" && mv -f "$tmp" "$prefix-$crc.jsa"; then
    for old in "$prefix"-*.jsa "${jar%.jar}"-*.jsa; do
      if [ "$old" != "$prefix-$crc.jsa" ] && [ -f "$old" ] \
          && { [ "${old#"$prefix"-}" != "$old" ] || [ "$jar" -nt "$old" ]; }; then
        rm -f "$old"
      fi
    done
  fi
}

# run_keeping_archive PREFIX JAVA_ARGS...: runs java JAVA_ARGS with -XX:ArchiveClassesAtExit
# (inserted first) writing to a temporary file beside the jar, and keeps that file as PREFIX's
# archive if the program exits 0; exits with the program's status. The archive is a dynamic one,
# on top of the JDK's default archive. The program runs as run_program says. Without a writable
# directory the program runs without writing an archive.
run_keeping_archive() {
  local prefix="$1"
  shift
  if ! cds_tmp="$(new_temporary "$prefix")"; then
    exec java "$@"
  fi
  # the names are read when the trap runs, so that no quote in a path can end the command
  trap 'rm -f "$cds_tmp"' EXIT
  run_program "-XX:ArchiveClassesAtExit=$cds_tmp" "$@"
  trap - TERM INT HUP
  keep_archive "$cds_tmp" "$prefix" "$status"
  exit "$status"
}

# run_keeping_static_archive PREFIX JAVA_ARGS...: as run_keeping_archive, but the archive is a
# static one that replaces the JDK's default archive: the program writes the list of the classes it
# loads (-XX:DumpLoadedClassList) into a temporary file, and once it has exited 0 a second JVM (java
# with the options in the global array dump_opts, the program's own JVM options) writes the archive
# of those classes, the JDK's and the program's together, in a few seconds. One archive of only the
# classes the program loads keeps fewer pages resident than the JDK's default archive with a
# dynamic one on top (about 1.5 MB fewer for the delegate). A dump that fails, or is stopped by a
# signal (passed on to it as to the program), leaves no archive; the launcher exits with the
# program's status.
run_keeping_static_archive() {
  local prefix="$1" program_status
  shift
  if ! cds_tmp="$(new_temporary "$prefix")"; then
    exec java "$@"
  fi
  # the list is a file of this user's before the JVM opens it (mktemp: mode 0600, never an existing name)
  if ! cds_list="$(new_temporary "$prefix")"; then
    rm -f "$cds_tmp"
    exec java "$@"
  fi
  trap 'rm -f "$cds_tmp" "$cds_list"' EXIT
  run_program "-XX:DumpLoadedClassList=$cds_list" "$@"
  program_status=$status
  if [ "$program_status" -eq 0 ] && [ -s "$cds_list" ]; then
    run_program "${dump_opts[@]}" -Xshare:dump "-XX:SharedClassListFile=$cds_list" "-XX:SharedArchiveFile=$cds_tmp" \
      -cp "$jar" >/dev/null 2>&1
    if [ "$status" -ne 0 ]; then
      : >"$cds_tmp"
    fi
  fi
  trap - TERM INT HUP
  keep_archive "$cds_tmp" "$prefix" "$program_status"
  exit "$program_status"
}

# run_program JAVA_ARGS...: runs java JAVA_ARGS and sets the global "status" to its exit status.
# The launcher stays as the program's parent and passes SIGTERM, SIGINT and SIGHUP on to it as
# SIGTERM (a background job's SIGINT is ignored; SIGTERM is both programs' clean stop, after which
# the JVM writes what it was asked to) and waits until it has really exited. The caller removes
# the trap once no program runs.
run_program() {
  java "$@" <&0 &
  cds_child=$!
  trap 'kill -TERM "$cds_child" 2>/dev/null || true' TERM INT HUP
  status=0
  wait "$cds_child" || status=$?
  # a signal ends wait early: wait again until the program has really exited
  while kill -0 "$cds_child" 2>/dev/null; do
    status=0
    wait "$cds_child" || status=$?
  done
}
