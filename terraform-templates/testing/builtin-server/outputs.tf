output "server_id" {
  description = "Id of the terraform_data resource, standing in for a provider's server id."
  value       = terraform_data.server.id
}

output "ipv4" {
  description = "The ipv4 variable, standing in for the server's address."
  value       = terraform_data.server.output.ipv4
}
