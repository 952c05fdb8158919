// Package graph is a small, domain-free directed acyclic graph of string-named nodes.
//
// An edge from a to b, made by Connect(a, b), means "a depends on b": b must come before a.
// The package knows nothing of what the nodes stand for; callers put services, steps or
// anything else in it.
//
// # Determinism
//
// Every result is a function of the order in which nodes and edges were added, never of map
// iteration or goroutine timing (except where Walk says so):
//
//   - Nodes returns nodes in insertion order, and String prints them in that order.
//   - Deps lists a node's dependencies in the order their edges were added; Dependents lists a
//     node's dependents in node insertion order.
//   - Sort is Kahn's algorithm with a min-heap on insertion index: among the nodes that are
//     ready at the same time the one inserted first comes first. A graph built in an order
//     that is already topological therefore sorts to exactly that order.
//   - Levels puts every node at its longest distance from a node without dependencies, and
//     lists each level in insertion order.
//   - On a cycle, Sort, Levels and Walk return a *CycleError naming every cycle: one concrete
//     shortest cycle through the earliest-inserted node of each strongly connected component,
//     plus every self-loop, ordered by that node.
//   - Walk starts the earliest-inserted ready node first whenever its concurrency limit
//     binds; with a limit of 1 it calls fn in exactly Sort's order. Which nodes run at the same
//     time, and so the order in which results and skips are seen, depends on timing when
//     the limit allows parallelism.
//
// # Cost
//
// Building is O(1) amortised per Add and Connect (O(d) for an edge into a node with d
// dependents, to keep them ordered). Sort is O(V log V + E) (the heap is the log factor);
// Levels and cycle detection are O(V+E). All of them are iterative, so deep chains and long
// cycles cannot overflow the stack.
//
// # Concurrency
//
// A Graph is not safe for concurrent mutation. Reading methods may run concurrently with
// each other, and Walk only reads the graph, but nothing may change the graph while a Walk
// is running.
package graph
