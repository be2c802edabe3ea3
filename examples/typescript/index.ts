// One CockroachDB Cloud cluster under customer-managed encryption keys (AWS KMS), declared with
// the ClusterCmek component of the cockroach-cmek plugin, through its generated TypeScript SDK.
import * as pulumi from "@pulumi/pulumi";
import * as cmek from "@pulumi/cockroach-cmek";

const config = new pulumi.Config();

const payments = new cmek.ClusterCmek("payments", {
    clusterId: config.require("clusterId"), // pulumi config set clusterId <id>
    keyGeneration: config.getNumber("keyGeneration") ?? 1, // 2, 3 ... rotates the keys
    aws: { primaryRegion: "eu-west-1" },
});

export const status = payments.status;
export const regionStatuses = payments.regionStatuses;
export const keyUris = payments.keyUris;
export const roleArn = payments.roleArn;
export const cmekConfigJson = payments.cmekConfigJson;
