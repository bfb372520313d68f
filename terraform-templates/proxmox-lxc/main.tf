provider "proxmox" {
  endpoint  = var.endpoint
  api_token = var.api_token
  insecure  = var.insecure
}

resource "proxmox_virtual_environment_container" "this" {
  node_name    = var.node
  vm_id        = var.vm_id
  unprivileged = var.unprivileged
  # Proxmox VE stores tags sorted and lowercase; anything else shows a diff on every plan.
  tags = sort(distinct([for tag in var.tags : lower(tag)]))

  features {
    nesting = var.nesting
  }

  cpu {
    cores = var.cores
  }

  memory {
    dedicated = var.memory
  }

  disk {
    datastore_id = var.datastore
    size         = var.disk
  }

  network_interface {
    name   = "eth0"
    bridge = var.bridge
  }

  operating_system {
    template_file_id = var.template_file_id
    type             = var.os_type
  }

  initialization {
    hostname = var.hostname

    ip_config {
      ipv4 {
        address = "dhcp"
      }
    }

    user_account {
      keys = [for key in var.keys : trimspace(key)]
    }
  }
}
