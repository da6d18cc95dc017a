#ifndef RESNET18_THREAD_BINDING_H
#define RESNET18_THREAD_BINDING_H

/// Binds each thread of the calling thread's OpenMP team (the caller is thread 0) to one CPU of those the
/// process may use, as OMP_PROC_BIND=true would, which libgomp only reads from the environment at load time:
/// thread k to the (first + k)-th of those CPUs, counting round, so that the callers of teams that run at once
/// (first 0, n, 2n, ...) sit on CPUs of their own. Returns the number of threads bound: 0 for fewer than 2
/// threads, or when the process may use fewer CPUs than `threads`.
int resnet18_bind_openmp_team(int threads, int first);

/// Gives the calling thread the name `top -H`, `ps -L` and /proc/PID/task/TID/comm show (at most 15 bytes kept).
void resnet18_name_this_thread(const char *name);

#endif
