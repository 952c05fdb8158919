package graph_test

import (
	"context"
	"errors"
	"fmt"

	"github.com/envctl/envctl/graph"
)

func ExampleGraph_Sort() {
	g := graph.New()
	g.Connect("web", "api")
	g.Connect("api", "db")
	g.Connect("api", "cache")
	order, _ := g.Sort()
	fmt.Println(order)
	levels, _ := g.Levels()
	fmt.Println(levels)
	fmt.Print(g)

	g.Connect("db", "web")
	_, err := g.Sort()
	fmt.Println(err)
	// Output:
	// [db cache api web]
	// [[db cache] [api] [web]]
	// web -> api
	// api -> db, cache
	// db
	// cache
	// dependency cycle: web -> api -> db -> web
}

func ExampleWalk() {
	g := graph.New()
	g.Connect("api", "db")
	g.Connect("web", "api")
	g.Add("cache")
	err := graph.Walk(context.Background(), g, graph.WalkOptions{
		Limit:  1, // one at a time, so the output order is fixed
		OnSkip: func(node, cause string) { fmt.Printf("skip %s: %s failed\n", node, cause) },
	}, func(ctx context.Context, node string) error {
		fmt.Println("start", node)
		if node == "db" {
			return errors.New("no disk")
		}
		return nil
	})
	fmt.Println(err)
	// Output:
	// start db
	// skip api: db failed
	// skip web: db failed
	// start cache
	// db: no disk
}
