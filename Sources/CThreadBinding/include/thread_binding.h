#ifndef RESNET18_THREAD_BINDING_H
#define RESNET18_THREAD_BINDING_H

/// Binds each thread of the calling thread's OpenMP team (the caller is thread 0) to one CPU of those the
/// process may use, as OMP_PROC_BIND=true would, which libgomp only reads from the environment at load time.
/// Returns the number of threads bound: 0 when the process may use fewer CPUs than `threads`.
int resnet18_bind_openmp_team(int threads);

#endif
