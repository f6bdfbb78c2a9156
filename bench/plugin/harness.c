/*
 * Exec-latency harness for the plugin benchmark. Usage:
 *   harness RUNS WARMUP REQUEST_FILE SAMPLES_FILE PROGRAM [ARG...]
 * Runs PROGRAM RUNS times (after WARMUP untimed runs) with REQUEST_FILE on stdin and stdout
 * and stderr on /dev/null, timing fork to wait4 with CLOCK_MONOTONIC, and reads each
 * child's peak RSS from wait4's rusage. Appends each run's time in microseconds to
 * SAMPLES_FILE, one per line, so batches of several programs can be interleaved and pooled.
 * Prints one line:
 *   runs=N mean_us=X p50_us=X p99_us=X max_us=X max_rss_kb=X failures=N
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static int compare(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static double run_once(const char *request, char **argv, long *rss_kb, int *failed) {
    struct timespec start, end;
    clock_gettime(CLOCK_MONOTONIC, &start);
    pid_t pid = fork();
    if (pid == 0) {
        int in = open(request, O_RDONLY);
        int null = open("/dev/null", O_WRONLY);
        if (in < 0 || null < 0) _exit(126);
        dup2(in, 0);
        dup2(null, 1);
        dup2(null, 2);
        execv(argv[0], argv);
        _exit(127);
    }
    int status = 0;
    struct rusage usage;
    if (pid < 0 || wait4(pid, &status, 0, &usage) < 0) { perror("fork/wait4"); exit(2); }
    clock_gettime(CLOCK_MONOTONIC, &end);
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) *failed += 1;
    if (usage.ru_maxrss > *rss_kb) *rss_kb = usage.ru_maxrss;
    return (end.tv_sec - start.tv_sec) * 1e6 + (end.tv_nsec - start.tv_nsec) / 1e3;
}

int main(int argc, char **argv) {
    if (argc < 6) {
        fputs("usage: harness RUNS WARMUP REQUEST_FILE SAMPLES_FILE PROGRAM [ARG...]\n", stderr);
        return 64;
    }
    int runs = atoi(argv[1]), warmup = atoi(argv[2]);
    const char *request = argv[3];
    FILE *samples = fopen(argv[4], "a");
    if (!samples) { perror(argv[4]); return 2; }
    char **program = argv + 5;
    if (runs < 1 || warmup < 0) { fputs("RUNS must be >= 1 and WARMUP >= 0\n", stderr); return 64; }

    long rss_kb = 0;
    int failures = 0;
    for (int i = 0; i < warmup; i++) run_once(request, program, &rss_kb, &failures);

    double *times = calloc((size_t)runs, sizeof *times);
    double sum = 0;
    for (int i = 0; i < runs; i++) {
        times[i] = run_once(request, program, &rss_kb, &failures);
        sum += times[i];
    }
    for (int i = 0; i < runs; i++) fprintf(samples, "%.1f\n", times[i]);
    if (fclose(samples) != 0) { perror(argv[4]); return 2; }
    qsort(times, (size_t)runs, sizeof *times, compare);
    /* Nearest-rank percentiles. */
    int p50 = (int)(0.50 * runs + 0.999999) - 1, p99 = (int)(0.99 * runs + 0.999999) - 1;
    printf("runs=%d mean_us=%.0f p50_us=%.0f p99_us=%.0f max_us=%.0f max_rss_kb=%ld failures=%d\n",
           runs, sum / runs, times[p50], times[p99], times[runs - 1], rss_kb, failures);
    return failures == 0 ? 0 : 1;
}
