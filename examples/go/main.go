// Command cmek-go-example puts one CockroachDB Cloud cluster under customer-managed encryption
// keys: a cockroach-cmek ClusterCmek (AWS keys, primary region eu-west-1), from the Go SDK that
// `pulumi package add ../../provider` generates into sdks/cockroach-cmek.
package main

import (
	"example.com/pulumi-cockroach-cmek/sdk/go/cockroachcmek"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi/config"
)

func main() {
	pulumi.Run(program)
}

// program declares the component and exports its outputs, as examples/yaml does.
func program(ctx *pulumi.Context) error {
	cfg := config.New(ctx, "")
	payments, err := cockroachcmek.NewClusterCmek(ctx, "payments", &cockroachcmek.ClusterCmekArgs{
		ClusterId:     pulumi.String(cfg.Require("clusterId")),
		KeyGeneration: pulumi.Int(cfg.RequireInt("keyGeneration")),
		Aws: &cockroachcmek.AwsKeyOptionsArgs{
			PrimaryRegion: pulumi.String("eu-west-1"),
		},
	})
	if err != nil {
		return err
	}
	ctx.Export("status", payments.Status)
	ctx.Export("regionStatuses", payments.RegionStatuses)
	ctx.Export("keyUris", payments.KeyUris)
	ctx.Export("roleArn", payments.RoleArn)
	ctx.Export("cmekConfigJson", payments.CmekConfigJson)
	return nil
}
