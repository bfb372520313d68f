provider "proxmox" {
  endpoint  = var.endpoint
  api_token = var.api_token
  insecure  = var.insecure
}

resource "proxmox_virtual_environment_vm" "this" {
  name      = var.name
  node_name = var.node
  vm_id     = var.vm_id
  # Proxmox VE stores tags sorted and lowercase; anything else shows a diff on every plan.
  tags = sort(distinct([for tag in var.tags : lower(tag)]))

  clone {
    vm_id = var.template_vm_id
    full  = true
  }

  # The guest agent is what reports the VM's addresses (ipv4_addresses).
  agent {
    enabled = true
  }

  stop_on_destroy = true

  cpu {
    cores = var.cores
  }

  memory {
    dedicated = var.memory_mb
  }

  disk {
    datastore_id = var.datastore
    interface    = "scsi0"
    size         = var.disk_gb
  }

  network_device {
    bridge = var.bridge
  }

  initialization {
    datastore_id = var.datastore

    ip_config {
      ipv4 {
        address = "dhcp"
      }
    }

    user_account {
      username = var.ci_user
      keys     = [for key in var.ssh_public_keys : trimspace(key)]
    }
  }
}
