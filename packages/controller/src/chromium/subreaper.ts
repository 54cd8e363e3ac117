import { accessSync, constants } from 'node:fs';

/**
 * A few lines of Perl that sit between us and Chromium and make its teardown exact.
 *
 * Chromium double-forks helper processes (zygotes, crashpad), so when it dies they are re-parented to PID 1.
 * Where PID 1 does not reap (a container started without `--init`, some sandboxes), they stay behind as zombies,
 * and where it does, they are reaped at some unknown later moment. This script marks itself a child subreaper
 * (`prctl(PR_SET_CHILD_SUBREAPER)`), so every orphan of the browser is re-parented to it instead. It starts
 * Chromium in a process group of its own and exits only when *every* descendant is gone and reaped. Its exit is
 * therefore the precise signal that the session's whole process tree has ended.
 *
 * It also ends the browser when the process that started it dies, however it dies (`kill -9`, the OOM killer):
 * it asks for SIGTERM on its parent's death (`prctl(PR_SET_PDEATHSIG)`), and on SIGTERM kills Chromium's group
 * (and Chromium itself, which may not have made its group yet), then reaps it as usual.
 * Without it a dead server's browsers ran on, unreachable, until the server's next start reaped them (never,
 * if it did not start again).
 *
 * Perl because it is an essential package on Debian (present in every Debian-based image) and can call `prctl`
 * through `syscall`, which Node cannot.
 *
 * Protocol: argv is `<prctl syscall number> <parent pid> <chromium> [args...]`. The first stdout line is
 * Chromium's pid, which is also its process group id. The second, `exit <code>`, comes as soon as Chromium's own
 * process is reaped, before its helpers are: the session learns at once that its browser is gone, and how, while
 * the teardown goes on (a dying browser's helpers can take a while under load, and a client that Chromium
 * dropped must not end the session as a clean one meanwhile). The exit code is Chromium's too (128 + signal if it
 * was killed).
 */
const SCRIPT = String.raw`
use strict; use POSIX ();
my $nr = shift @ARGV;
my $parent = shift @ARGV;
syscall($nr, 36, 1, 0, 0, 0);
$SIG{PIPE} = 'IGNORE';
my $pid;
$SIG{TERM} = sub { if ($pid) { kill 'KILL', -$pid; kill 'KILL', $pid; } else { exit 143; } };
my $term = POSIX::SigSet->new(POSIX::SIGTERM());
POSIX::sigprocmask(POSIX::SIG_BLOCK(), $term);
syscall($nr, 1, 15, 0, 0, 0);
exit 143 if getppid() != $parent;
$pid = fork();
die "fork: $!\n" unless defined $pid;
if ($pid == 0) { POSIX::sigprocmask(POSIX::SIG_UNBLOCK(), $term); setpgrp(0, 0); exec { $ARGV[0] } @ARGV; die "exec $ARGV[0]: $!\n"; }
POSIX::sigprocmask(POSIX::SIG_UNBLOCK(), $term);
$| = 1; print "$pid\n";
my $status;
sub code_of { my ($s) = @_; return ($s & 127) ? 128 + ($s & 127) : ($s >> 8); }
sub kill_strays {
  kill 'KILL', -$pid;
  opendir(my $dh, '/proc') or return;
  for my $p (grep { /^\d+$/ } readdir $dh) {
    open(my $fh, '<', "/proc/$p/stat") or next; my $s = <$fh>; close $fh;
    kill 'KILL', $p if $s =~ /\)\s+\S+\s+(\d+)/ && $1 == $$;
  }
}
while (1) {
  my $p = waitpid(-1, 0);
  if ($p > 0) { if ($p == $pid) { $status = $?; print "exit ", code_of($status), "\n"; } kill_strays() if defined $status; next; }
  last unless $!{EINTR};
}
exit(code_of($status));
`;

/** `prctl`'s syscall number on the architectures Chromium ships for. */
const PRCTL_SYSCALL: Partial<Record<NodeJS.Architecture, number>> = { x64: 157, arm64: 167 };

function perlPath(): string | undefined {
  for (const path of ['/usr/bin/perl', '/bin/perl']) {
    try {
      accessSync(path, constants.X_OK);
      return path;
    } catch {}
  }
  return undefined;
}

/**
 * The command that starts `binary` under the subreaper, or `undefined` where it cannot run (not Linux, no Perl,
 * an architecture whose syscall number we do not know): there the caller starts Chromium directly.
 */
export function subreaperCommand(
  binary: string,
  args: readonly string[],
): { file: string; args: string[] } | undefined {
  const nr = PRCTL_SYSCALL[process.arch];
  const perl = process.platform === 'linux' && nr !== undefined ? perlPath() : undefined;
  if (!perl || nr === undefined) return undefined;
  return { file: perl, args: ['-e', SCRIPT, '--', String(nr), String(process.pid), binary, ...args] };
}
