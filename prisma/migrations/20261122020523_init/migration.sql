-- CreateTable
CREATE TABLE "instances" (
    "id" TEXT NOT NULL,
    "upload_name" TEXT NOT NULL,
    "description" TEXT NOT NULL DEFAULT '',
    "email" TEXT NOT NULL DEFAULT '',
    "config" JSONB NOT NULL DEFAULT '{}',
    "capabilities" JSONB,
    "password_hash" BYTEA NOT NULL,
    "registered_at" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMP(3) NOT NULL,
    "first_connected_at" TIMESTAMP(3),
    "last_heartbeat" TIMESTAMP(3),
    "last_ws_check" TIMESTAMP(3),
    "deleted_at" TIMESTAMP(3),

    CONSTRAINT "instances_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "roles" (
    "instance_id" TEXT NOT NULL,
    "role_id" TEXT NOT NULL,
    "name" TEXT NOT NULL,
    "description" TEXT NOT NULL DEFAULT '',
    "system_prompt" TEXT NOT NULL DEFAULT '',
    "is_active" BOOLEAN NOT NULL DEFAULT true,
    "icon" TEXT NOT NULL DEFAULT '',
    "enable_l0_retrieval" BOOLEAN NOT NULL DEFAULT false,
    "enable_l1_retrieval" BOOLEAN NOT NULL DEFAULT false,
    "created_at" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMP(3) NOT NULL,

    CONSTRAINT "roles_pkey" PRIMARY KEY ("instance_id","role_id")
);

-- CreateIndex
CREATE INDEX "instances_deleted_at_registered_at_idx" ON "instances"("deleted_at", "registered_at");

-- AddForeignKey
ALTER TABLE "roles" ADD CONSTRAINT "roles_instance_id_fkey" FOREIGN KEY ("instance_id") REFERENCES "instances"("id") ON DELETE CASCADE ON UPDATE CASCADE;
