// One party's SIMON compute from Go, with the client generated from openapi.yaml (package tessera):
//
//	compute MYSELF NODES UUID MICROPROTOCOL DATA_JSON
//
// DATA_JSON is this party's `data`, any JSON value: a number (19), a list ([2.5, -1]) or an object
// (SecureFedAvg's {"tensors": {...}, "weight": 120}); ComputeKwargs.Data is a free-form value, so
// each goes on the wire as written. Prints what the party downloads, as one JSON line.
package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"strconv"
	"strings"
	"time"

	"tessera"
)

func main() {
	if len(os.Args) != 6 {
		fmt.Fprintln(os.Stderr, "usage: compute MYSELF NODES UUID MICROPROTOCOL DATA_JSON")
		os.Exit(2)
	}
	myself, err := strconv.Atoi(os.Args[1])
	nodes := strings.Split(os.Args[2], ",")
	if err != nil || myself < 0 || myself >= len(nodes) {
		fail("MYSELF must index NODES", err)
	}
	var data tessera.Object
	if err := json.Unmarshal([]byte(os.Args[5]), &data); err != nil {
		fail("DATA_JSON is not JSON", err)
	}

	cfg := tessera.NewConfiguration()
	cfg.BasePath = nodes[myself]
	cfg.HTTPClient = &http.Client{Timeout: 120 * time.Second} // compute waits for every party; never forever
	if token := os.Getenv("TESSERA_TOKEN"); token != "" {
		cfg.AddDefaultHeader("Authorization", "Bearer "+token)
	}
	api := tessera.NewAPIClient(cfg).RepresentationsApi
	ctx := context.Background()

	// create(protocol="Simon") -> its member compute -> the call -> download, as every FSC client does.
	simon, _, err := api.CreateRepresentation(ctx, tessera.ArgsKwargs{Args: []tessera.Object{}, Kwargs: tessera.ModelMap{"protocol": "Simon"}})
	check("create Simon", err)
	compute, _, err := api.CreateAttribute(ctx, simon.Uuid, "compute")
	check("compute member", err)
	kwargs := tessera.ComputeKwargs{
		Microprotocol: os.Args[4],
		Data:          &data,
		Network:       &tessera.Network{Nodes: nodes, Uuid: os.Args[3], Myself: int32(myself)},
	}
	called, _, err := api.CallRepresentation(ctx, tessera.ArgsKwargs{Args: []tessera.Object{}, Kwargs: asMap(kwargs)}, compute.Uuid)
	check("compute", err)
	result, _, err := api.DownloadRepresentation(ctx, called.Uuid)
	check("download", err)
	for _, uuid := range []string{called.Uuid, compute.Uuid, simon.Uuid} {
		_, _, _ = api.ReleaseRepresentation(ctx, uuid)
	}
	out, _ := json.Marshal(result.Object)
	fmt.Println(string(out))
}

// asMap turns a typed kwargs model into the free-form `kwargs` of ArgsKwargs (the same JSON).
func asMap(value interface{}) tessera.ModelMap {
	raw, err := json.Marshal(value)
	check("kwargs", err)
	var m tessera.ModelMap
	check("kwargs", json.Unmarshal(raw, &m))
	return m
}

// check stops with the server's problem document (status, detail, where) when there is one.
func check(what string, err error) {
	if err == nil {
		return
	}
	if problem, ok := err.(tessera.GenericSwaggerError); ok {
		fail(what+": "+problem.Error()+" "+string(problem.Body()), nil)
	}
	fail(what, err)
}

func fail(what string, err error) {
	if err != nil {
		fmt.Fprintf(os.Stderr, "%s: %v\n", what, err)
	} else {
		fmt.Fprintln(os.Stderr, what)
	}
	os.Exit(1)
}
