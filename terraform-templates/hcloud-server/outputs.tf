output "server_id" {
  description = "Hetzner server id."
  value       = hcloud_server.this.id
}

output "ipv4" {
  description = "Public IPv4 address."
  value       = hcloud_server.this.ipv4_address
}

output "ipv6" {
  description = "Public IPv6 address."
  value       = hcloud_server.this.ipv6_address
}
